using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using RunLedger.Core.Payloads;

namespace RunLedger.Sqlite.Query;

/// <summary>
/// Text search over the runs the full-text indexer has not reached yet (the tail above
/// <c>fts_progress.indexed_seq</c>, normally the last commit or two). A SQL function rebuilds a
/// run's search text from its stored bodies exactly as the indexer would and matches the words as
/// one phrase with the rules of the <c>unicode61 remove_diacritics 2</c> tokenizer of
/// <c>runs_fts</c>: letters, digits and private-use characters make words, case and Latin
/// diacritics are ignored, whole words only.
/// </summary>
internal static class SqliteTailSearch
{
    public const string FunctionName = "runledger_tail_match";

    public static void Register(SqliteConnection connection, int maxIndexedChars)
    {
        ArgumentNullException.ThrowIfNull(connection);
        connection.CreateFunction<string?, long?, byte[]?, long?, byte[]?, string?, bool>(
            FunctionName,
            (phrase, inputEncoding, input, outputEncoding, output, error) =>
                phrase is not null && Matches(phrase, Body(inputEncoding, input), Body(outputEncoding, output), error, maxIndexedChars),
            isDeterministic: true);
    }

    /// <summary>True when the words of <paramref name="phrase"/> appear in a row in the run's search text.</summary>
    public static bool Matches(string phrase, string? input, string? output, string? error, int maxIndexedChars)
    {
        var wanted = Words(phrase);
        if (wanted.Count == 0)
        {
            return false;
        }

        var words = Words(PayloadText.RunSearchText(input, output, error, maxIndexedChars));
        for (var start = 0; start + wanted.Count <= words.Count; start++)
        {
            var all = true;
            for (var i = 0; i < wanted.Count && all; i++)
            {
                all = string.Equals(words[start + i], wanted[i], StringComparison.Ordinal);
            }

            if (all)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The words of a text, folded: lower case, Latin diacritics removed.</summary>
    public static List<string> Words(string text)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        foreach (var rune in text.Normalize(NormalizationForm.FormD).EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            if (category == UnicodeCategory.NonSpacingMark)
            {
                continue; // a diacritic: dropped, the word goes on
            }

            if (IsWordCategory(category))
            {
                word.Append(Rune.ToLowerInvariant(rune).ToString());
            }
            else if (word.Length > 0)
            {
                words.Add(word.ToString());
                word.Clear();
            }
        }

        if (word.Length > 0)
        {
            words.Add(word.ToString());
        }

        return words;
    }

    private static bool IsWordCategory(UnicodeCategory category) => category is
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter or
        UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.DecimalDigitNumber or
        UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber or UnicodeCategory.PrivateUse;

    private static string? Body(long? encoding, byte[]? data) =>
        encoding is { } e && data is not null ? PayloadCodec.Decode((PayloadEncoding)e, data) : null;
}
