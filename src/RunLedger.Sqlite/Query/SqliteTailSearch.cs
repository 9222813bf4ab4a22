using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using RunLedger.Core.Payloads;

namespace RunLedger.Sqlite.Query;

/// <summary>
/// Text search over the runs the full-text index does not answer for (the tail above its mark
/// <c>fts_progress.indexed_seq</c>, normally the last commit or two, and the changed runs in
/// <c>fts_pending</c>; see <see cref="SqliteSearchIndex"/>). A SQL function rebuilds a
/// run's search text from its stored bodies exactly as the indexer would and matches the words as
/// one phrase with the rules of the <c>unicode61 remove_diacritics 2</c> tokenizer of
/// <c>runs_fts</c> (learned from SQLite itself): letters, digits and private-use characters make
/// words, case and Latin diacritics are ignored, whole words only.
/// </summary>
internal static class SqliteTailSearch
{
    public const string FunctionName = "runledger_tail_match";

    public static void Register(SqliteConnection connection, int maxIndexedChars, PayloadDictionaries dictionaries)
    {
        ArgumentNullException.ThrowIfNull(connection);
        connection.CreateFunction<string?, long?, byte[]?, long?, byte[]?, string?, bool>(
            FunctionName,
            (phrase, inputEncoding, input, outputEncoding, output, error) =>
                phrase is not null && Matches(phrase, Body(inputEncoding, input, dictionaries), Body(outputEncoding, output, dictionaries), error, maxIndexedChars),
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

    /// <summary>
    /// How the tokenizer treats each BMP character: null for a separator, "" for a character it
    /// drops, else the folded character. Learned once from SQLite's own tokenizer (an in-memory
    /// FTS5 table and its fts5vocab), so the folding is exactly SQLite's.
    /// </summary>
    private static readonly Lazy<string?[]> Fold = new(LearnFolding);

    /// <summary>The words of a text as <c>runs_fts</c> sees them.</summary>
    public static List<string> Words(string text)
    {
        var fold = Fold.Value;
        var words = new List<string>();
        var word = new StringBuilder();
        foreach (var rune in text.EnumerateRunes())
        {
            string? folded;
            if (rune.IsBmp)
            {
                folded = fold[rune.Value];
            }
            else
            {
                folded = IsWordCategory(Rune.GetUnicodeCategory(rune)) ? rune.ToString() : null;
            }

            if (folded is not null)
            {
                word.Append(folded);
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

    private static string?[] LearnFolding()
    {
        // One document of "q<c>q" probes: a word character gives one term "q<folded>q"; a
        // separator splits the probe into the terms "q" and "q".
        var probes = new StringBuilder(0x10000 * 4);
        var chars = new List<char>(0x10000);
        for (var c = 1; c <= 0xFFFF; c++)
        {
            if (c is >= 0xD800 and <= 0xDFFF)
            {
                continue;
            }

            chars.Add((char)c);
            probes.Append('q').Append((char)c).Append("q ");
        }

        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        using (var create = connection.CreateCommand())
        {
            create.CommandText =
                "CREATE VIRTUAL TABLE probe USING fts5(body, tokenize='unicode61 remove_diacritics 2'); " +
                "CREATE VIRTUAL TABLE probe_terms USING fts5vocab(probe, 'instance'); " +
                "INSERT INTO probe (rowid, body) VALUES (1, $body);";
            create.Parameters.AddWithValue("$body", probes.ToString());
            create.ExecuteNonQuery();
        }

        var terms = new List<string>(chars.Count + 1024);
        using (var select = connection.CreateCommand())
        {
            select.CommandText = "SELECT term FROM probe_terms ORDER BY offset;";
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                terms.Add(reader.GetString(0));
            }
        }

        var fold = new string?[0x10000];
        var t = 0;
        foreach (var c in chars)
        {
            var term = terms[t];
            if (term == "q")
            {
                t += 2; // "q", "q": a separator
                fold[c] = null;
                continue;
            }

            fold[c] = term[1..^1];
            t++;
        }

        return fold;
    }

    private static bool IsWordCategory(UnicodeCategory category) => category is
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter or
        UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.DecimalDigitNumber or
        UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber or UnicodeCategory.PrivateUse;

    /// <summary>
    /// A stored body's text, or null when it cannot be decoded: a damaged body is left out (the
    /// indexer does the same), so the run still matches on its other body and its error message
    /// and one bad row never makes a search fail.
    /// </summary>
    private static string? Body(long? encoding, byte[]? data, PayloadDictionaries dictionaries)
    {
        if (encoding is not { } e || data is null)
        {
            return null;
        }

        try
        {
            return PayloadCodec.Decode((PayloadEncoding)e, data, dictionaries);
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }
}
