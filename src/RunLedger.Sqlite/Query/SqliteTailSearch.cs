using System.Buffers;
using System.Collections.Concurrent;
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
/// <c>runs_fts</c> (learned from SQLite itself, character by character): letters, digits and
/// private-use characters make words, case and Latin diacritics are ignored, whole words only.
/// The same word rules split a search phrase into the words the index is asked for.
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
    /// <remarks>
    /// A phrase of several words is checked this way for every run the index names as holding all
    /// of them, so it is made cheap: both texts are folded into their words joined by single
    /// spaces (one buffer, no string per word) and the phrase is searched for as a whole, a
    /// match counting when a space or an end is on both sides.
    /// </remarks>
    public static bool Matches(string phrase, string? input, string? output, string? error, int maxIndexedChars)
    {
        var wanted = new FoldedText(phrase.Length);
        var text = new FoldedText(0);
        try
        {
            wanted.Append(phrase);
            if (wanted.Length == 0)
            {
                return false;
            }

            var searchText = PayloadText.RunSearchText(input, output, error, maxIndexedChars);
            text = new FoldedText(searchText.Length);
            text.Append(searchText);
            return ContainsWords(text.Span, wanted.Span);
        }
        finally
        {
            wanted.Dispose();
            text.Dispose();
        }
    }

    /// <summary>True when <paramref name="phrase"/> occurs in <paramref name="text"/> with a space or an end on both sides.</summary>
    private static bool ContainsWords(ReadOnlySpan<char> text, ReadOnlySpan<char> phrase)
    {
        var from = 0;
        while (from <= text.Length - phrase.Length)
        {
            var at = text[from..].IndexOf(phrase, StringComparison.Ordinal);
            if (at < 0)
            {
                return false;
            }

            at += from;
            var end = at + phrase.Length;
            if ((at == 0 || text[at - 1] == ' ') && (end == text.Length || text[end] == ' '))
            {
                return true;
            }

            from = at + 1;
        }

        return false;
    }

    /// <summary>A text's words as <c>runs_fts</c> sees them (folded), joined by single spaces, in a pooled buffer.</summary>
    private struct FoldedText : IDisposable
    {
        private char[] _buffer;
        private bool _inWord;

        public FoldedText(int capacity)
        {
            _buffer = capacity == 0 ? [] : ArrayPool<char>.Shared.Rent(capacity + 16);
        }

        public int Length { get; private set; }

        public readonly ReadOnlySpan<char> Span => _buffer.AsSpan(0, Length);

        public void Append(string text)
        {
            var (kinds, chars) = FastFold.Value;
            var fold = Fold.Value;
            for (var i = 0; i < text.Length; i++)
            {
                var ch = text[i];
                if (!char.IsSurrogate(ch))
                {
                    switch (kinds[ch])
                    {
                        case 0:
                            _inWord = false;
                            break;
                        case 1:
                            // The common case: one character in, one out.
                            if (!_inWord && Length > 0)
                            {
                                Put(' ');
                            }

                            Put(chars[ch]);
                            _inWord = true;
                            break;
                        case 3:
                            Put(fold[ch]!);
                            break;
                    }

                    continue;
                }

                // A pair is one code point above the BMP; a lone surrogate reads as U+FFFD, as when
                // the text is enumerated by runes.
                string? folded;
                if (char.IsHighSurrogate(ch) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    folded = FoldAstral(char.ConvertToUtf32(ch, text[i + 1]));
                    i++;
                }
                else
                {
                    folded = fold[0xFFFD];
                }

                if (folded is null)
                {
                    _inWord = false;
                }
                else
                {
                    Put(folded);
                }
            }
        }

        public readonly void Dispose()
        {
            if (_buffer.Length > 0)
            {
                ArrayPool<char>.Shared.Return(_buffer);
            }
        }

        /// <summary>A folded string of a word character: a dropped one ("") neither starts nor ends a word.</summary>
        private void Put(string folded)
        {
            if (folded.Length == 0)
            {
                return;
            }

            if (!_inWord && Length > 0)
            {
                Put(' ');
            }

            foreach (var c in folded)
            {
                Put(c);
            }

            _inWord = true;
        }

        private void Put(char c)
        {
            if (Length == _buffer.Length)
            {
                var larger = ArrayPool<char>.Shared.Rent(Math.Max(64, _buffer.Length * 2));
                _buffer.AsSpan(0, Length).CopyTo(larger);
                if (_buffer.Length > 0)
                {
                    ArrayPool<char>.Shared.Return(_buffer);
                }

                _buffer = larger;
            }

            _buffer[Length++] = c;
        }
    }

    /// <summary>
    /// How the tokenizer treats each BMP character: null for a separator, "" for a character it
    /// drops, else the folded character. Learned once from SQLite's own tokenizer (an in-memory
    /// FTS5 table and its fts5vocab), so the folding is exactly SQLite's.
    /// </summary>
    private static readonly Lazy<string?[]> Fold = new(() => LearnFolding(0x0000, 0xFFFF));

    /// <summary>
    /// Per BMP character, from <see cref="Fold"/>: 0 a separator, 1 folds to the one character in
    /// <c>Chars</c>, 2 dropped, 3 folds to the string in <see cref="Fold"/>.
    /// </summary>
    private static readonly Lazy<(byte[] Kinds, char[] Chars)> FastFold = new(() =>
    {
        var fold = Fold.Value;
        var kinds = new byte[0x10000];
        var chars = new char[0x10000];
        for (var c = 0; c < fold.Length; c++)
        {
            (kinds[c], chars[c]) = fold[c] switch
            {
                null => ((byte)0, '\0'),
                { Length: 0 } => ((byte)2, '\0'),
                string { Length: 1 } f => ((byte)1, f[0]),
                _ => ((byte)3, '\0'),
            };
        }

        return (kinds, chars);
    });

    /// <summary>The same for the code points above the BMP, learned per block of <see cref="AstralBlock"/> when first met.</summary>
    private static readonly ConcurrentDictionary<int, string?[]> AstralFold = new();

    private const int AstralBlock = 0x400;

    /// <summary>
    /// The words of a text as <c>runs_fts</c> sees them, as they are written in it (not folded):
    /// each one, given to the index's tokenizer alone, is exactly that one word.
    /// </summary>
    public static List<string> WrittenWords(string text) => [.. WordSpans(text).Select(w => text[w.Start..w.End])];

    /// <summary>
    /// Where a text's first <paramref name="words"/> words end and its last <paramref name="words"/>
    /// words begin, as <c>runs_fts</c> sees words (cut there, each part gives the index exactly
    /// those words); null when the text has fewer than <paramref name="minWords"/> words.
    /// </summary>
    public static (int HeadEnd, int TailStart)? EdgeCuts(string text, int words, int minWords)
    {
        var spans = WordSpans(text);
        return spans.Count < Math.Max(minWords, 2 * words) ? null : (spans[words - 1].End, spans[^words].Start);
    }

    /// <summary>Where each word of a text starts and ends (UTF-16 indexes), as <c>runs_fts</c> sees words.</summary>
    private static List<(int Start, int End)> WordSpans(string text)
    {
        var fold = Fold.Value;
        var spans = new List<(int Start, int End)>();
        var start = -1;
        var index = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            var at = index;
            index += rune.Utf16SequenceLength;
            // A character the tokenizer drops (a combining accent) neither starts nor ends a word.
            var c = rune.IsBmp ? fold[rune.Value] : FoldAstral(rune.Value);
            if (c is null)
            {
                if (start >= 0)
                {
                    spans.Add((start, at));
                    start = -1;
                }
            }
            else if (c.Length > 0 && start < 0)
            {
                start = at;
            }
        }

        if (start >= 0)
        {
            spans.Add((start, text.Length));
        }

        return spans;
    }

    private static string? FoldAstral(int codePoint)
    {
        var block = codePoint / AstralBlock;
        var fold = AstralFold.GetOrAdd(block, b => LearnFolding(b * AstralBlock, (b * AstralBlock) + AstralBlock - 1));
        return fold[codePoint - (block * AstralBlock)];
    }

    /// <summary>
    /// How the tokenizer treats the code points <paramref name="first"/> to <paramref name="last"/>,
    /// indexed from <paramref name="first"/> (NUL and surrogates are not probed: separators).
    /// </summary>
    private static string?[] LearnFolding(int first, int last)
    {
        // One document of "q<c>q" probes: a word character gives one term "q<folded>q"; a
        // separator splits the probe into the terms "q" and "q".
        var probes = new StringBuilder((last - first + 1) * 5);
        var chars = new List<int>(last - first + 1);
        for (var c = first; c <= last; c++)
        {
            if (c is 0 or (>= 0xD800 and <= 0xDFFF))
            {
                continue;
            }

            chars.Add(c);
            probes.Append('q').Append(char.ConvertFromUtf32(c)).Append("q ");
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

        var fold = new string?[last - first + 1];
        var t = 0;
        foreach (var c in chars)
        {
            var term = terms[t];
            if (term == "q")
            {
                t += 2; // "q", "q": a separator
                fold[c - first] = null;
                continue;
            }

            fold[c - first] = term[1..^1];
            t++;
        }

        return fold;
    }

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
