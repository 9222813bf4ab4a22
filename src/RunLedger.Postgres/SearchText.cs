using System.Text;

namespace RunLedger.Postgres;

/// <summary>
/// Full-text words for the <c>search</c> column and for free-text queries, split the way the
/// SQLite store's FTS5 <c>unicode61 remove_diacritics 2</c> tokenizer splits them: a word is a
/// run of letters and digits in any script, folded to lower case, Latin diacritics removed.
/// <para>
/// Hand-written because PostgreSQL's own parser splits differently (hyphenated words, e-mail
/// addresses, file paths, version numbers are tokens of their own), which would make the same
/// filter answer differently on the two stores; and .NET's Unicode normalization is not
/// available under invariant globalization, hence the small fold table for Latin letters. The
/// words are stored as a tsvector with positions, so phrases match in order, and queried with
/// the <c>&lt;-&gt;</c> operator; no text search configuration or dictionary is involved, so it
/// works the same for every language and server locale.
/// </para>
/// </summary>
internal static class SearchText
{
    /// <summary>Longest lexeme PostgreSQL accepts, in bytes (2 KiB less one).</summary>
    internal const int MaxLexemeBytes = 2046;

    /// <summary>Highest word position a tsvector stores; later words share it.</summary>
    internal const int MaxPosition = 16383;

    /// <summary>Most positions a tsvector keeps per lexeme.</summary>
    internal const int MaxPositionsPerLexeme = 255;

    private const string Accented = "àáâãäåçèéêëìíîïñòóôõöùúûüýÿāăąćĉċčďēĕėęěĝğġģĥĩīĭįĵķĺļľńņňōŏőŕŗřśŝşšţťũūŭůűųŵŷźżž";
    private const string Plain = "aaaaaaceeeeiiiinooooouuuuyyaaaccccdeeeeegggghiiiijklllnnnooorrrssssttuuuuuuwyzzz";

    /// <summary>The words of <paramref name="text"/>, in order.</summary>
    public static List<string> Words(string text)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                if (char.IsLetterOrDigit(text, i))
                {
                    word.Append(c).Append(text[i + 1]);
                }
                else
                {
                    Flush();
                }

                i++;
                continue;
            }

            if (char.IsLetterOrDigit(c))
            {
                word.Append(Fold(char.ToLowerInvariant(c)));
            }
            else if (char.GetUnicodeCategory(c) is not (System.Globalization.UnicodeCategory.NonSpacingMark or System.Globalization.UnicodeCategory.SpacingCombiningMark))
            {
                Flush();
            }
        }

        Flush();
        return words;

        void Flush()
        {
            if (word.Length > 0)
            {
                words.Add(word.ToString());
                word.Clear();
            }
        }
    }

    /// <summary>
    /// The tsvector of a run's text: each word with its positions (at most <see cref="MaxPositionsPerLexeme"/>,
    /// the last word position repeated past <see cref="MaxPosition"/>), words longer than PostgreSQL accepts
    /// left out; null when the text has no words.
    /// </summary>
    public static SearchVector? ToVector(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var builder = new SearchVector.Builder(text.Length);
        Span<char> word = text.Length <= 1024 ? stackalloc char[text.Length] : new char[text.Length];
        var length = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                if (char.IsLetterOrDigit(text, i))
                {
                    word[length++] = c;
                    word[length++] = text[i + 1];
                }
                else
                {
                    builder.Add(word[..length]);
                    length = 0;
                }

                i++;
                continue;
            }

            if (char.IsLetterOrDigit(c))
            {
                word[length++] = Fold(char.ToLowerInvariant(c));
            }
            else if (char.GetUnicodeCategory(c) is not (System.Globalization.UnicodeCategory.NonSpacingMark or System.Globalization.UnicodeCategory.SpacingCombiningMark))
            {
                builder.Add(word[..length]);
                length = 0;
            }
        }

        builder.Add(word[..length]);
        return builder.Build();
    }

    /// <summary>
    /// A tsquery (text form) matching the words of <paramref name="phrase"/> next to each other
    /// in order; null when the phrase has no words (it matches nothing, as on SQLite).
    /// </summary>
    public static string? ToQuery(string phrase)
    {
        var words = Words(phrase);
        if (words.Count == 0)
        {
            return null;
        }

        return string.Join(" <-> ", words.Select(w => "'" + w.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal) + "'"));
    }

    private static char Fold(char c)
    {
        if (c < '\u00e0')
        {
            return c;
        }

        var index = Accented.IndexOf(c, StringComparison.Ordinal);
        return index < 0 ? c : Plain[index];
    }
}
