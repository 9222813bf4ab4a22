using System.Globalization;
using System.Text;
using System.Text.Json;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Sqlite.Query;
using static RunLedger.Sqlite.Tests.Store.SqliteFtsIndexingTests;

namespace RunLedger.Sqlite.Tests.Store;

/// <summary>
/// With shared lines indexed once (index layout 3), search gives for every phrase exactly the runs
/// whose bodies hold it, as the body matcher (<see cref="SqliteTailSearch.Matches"/>) says: random
/// texts and phrases, across line edges and the gap, with accents, CJK and astral characters.
/// </summary>
public sealed class SqliteSharedTextPhraseTests
{
    [Fact]
    public Task RandomPhrases_MatchTheBodies() => RandomPhrasesAsync(seed: 1, maxIndexedChars: null);

    [Fact]
    public Task RandomPhrases_MatchTheBodies_AnotherSeed() => RandomPhrasesAsync(seed: 2, maxIndexedChars: null);

    [Fact]
    public Task RandomPhrases_OfTextsCutByMaxIndexedChars_MatchTheBodies() => RandomPhrasesAsync(seed: 3, maxIndexedChars: 1500);

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public Task RandomPhrases_OfBlocksOfFewWords_MatchTheBodies(int seed) => RandomPhrasesAsync(seed, maxIndexedChars: null, longWords: true);

    private static readonly string[] Specials =
    [
        "café", "CAFE", "Cafe\u0301", "naïve", "NAIVE", "東京", "東", "京", "\U00020000\U00020001", "\U0001D400\U0001D401", "x\U0001F600y",
        "ÆSIR", "straße", "STRASSE", "İstanbul", "ǅemal", "ﬁne", "a\u00ADb", "e\u0301te", "9½", "٣٤", "Ωmega", "ωmega", "\uE001", "\U000F0000",
    ];

    /// <summary>
    /// Runs whose text repeats six shared lines (each long enough to become a block, some in a row,
    /// some in the output, some twice), and random phrases drawn from each run's words: many start
    /// just before a line's edge, some have one word changed, and some splice one shared line's end
    /// onto another's start or a line's head onto its tail (across the gap of the runs' rows).
    /// </summary>
    private static async Task RandomPhrasesAsync(int seed, int? maxIndexedChars, bool longWords = false)
    {
        var options = new SqliteStoreOptions();
        if (maxIndexedChars is { } max)
        {
            options.MaxIndexedChars = max;
        }

        await using var f = await StoreFixture.OpenAsync(options: options);
        var project = (await f.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;
        var random = new Random(seed);
        var vocabulary = Enumerable.Range(0, 40).Select(i => (longWords ? "longlonglonglonglongw" : "w") + i.ToString(CultureInfo.InvariantCulture)).Concat(Specials).ToArray();
        string Words(int n) => string.Join(random.Next(3) == 0 ? ", " : " ", Enumerable.Range(0, n).Select(_ => vocabulary[random.Next(vocabulary.Length)]));

        var shared = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            var line = Words(longWords ? 24 + random.Next(3) : 30 + random.Next(40));
            while (Encoding.UTF8.GetByteCount(line) < 560)
            {
                line += " " + Words(5);
            }

            shared.Add(line);
        }

        var bodies = new List<(Guid Id, string Input, string Output)>();
        for (var r = 0; r < 95; r++)
        {
            var lines = new List<string>();
            var count = 1 + random.Next(5);
            for (var k = 0; k < count; k++)
            {
                var pick = random.Next(10);
                if (pick < 6)
                {
                    lines.Add(shared[random.Next(shared.Count)]);
                }
                else if (pick < 7 && lines.Count > 0)
                {
                    lines.Add(lines[^1]);
                }
                else
                {
                    lines.Add(Words(1 + random.Next(12)));
                }
            }

            var input = Chat(string.Join("\n", lines), Words(1 + random.Next(6)));
            var output = JsonSerializer.Serialize(string.Join("\n", Enumerable.Range(0, random.Next(3)).Select(_ => random.Next(2) == 0 ? shared[random.Next(shared.Count)] : Words(3))));
            var id = await WriteAsync(f, project, input, output);
            bodies.Add((id, input, output));
        }

        await WaitUntilIndexedAsync(f);
        var blocks = f.Scalar("SELECT count(*) FROM fts.fts_blocks");
        blocks.ShouldBeGreaterThan(0);
        f.Scalar("SELECT count(DISTINCT seq) FROM fts.fts_run_blocks").ShouldBeGreaterThan(10);

        var max2 = f.Store.Options.MaxIndexedChars;
        var texts = bodies.Select(b => PayloadText(b.Input, b.Output, max2)).ToList();
        var queries = new List<string>();
        int[] lengths = [1, 2, 3, 5, 8, 9, 10, 11, 13, 17, 24, 25, 26, 27, 30, 40, 70];
        foreach (var text in texts)
        {
            var words = SqliteTailSearch.WrittenWords(text);
            // Word indexes just after each line break.
            var edges = new List<int>();
            var index = 0;
            var lineStarts = new HashSet<int>(Enumerable.Range(0, text.Length).Where(i => i == 0 || text[i - 1] == '\n'));
            var position = 0;
            foreach (var word in words)
            {
                var at = text.IndexOf(word, position, StringComparison.Ordinal);
                if (text.LastIndexOf('\n', Math.Max(0, at - 1)) >= position && at > 0)
                {
                    edges.Add(index);
                }

                position = at + word.Length;
                index++;
            }

            for (var q = 0; q < 6; q++)
            {
                var length = lengths[random.Next(lengths.Length)];
                int start;
                if (edges.Count > 0 && random.Next(2) == 0)
                {
                    var edge = edges[random.Next(edges.Count)];
                    start = edge - 1 - random.Next(Math.Max(1, length - 1));
                }
                else
                {
                    start = random.Next(Math.Max(1, words.Count));
                }

                start = Math.Clamp(start, 0, Math.Max(0, words.Count - 1));
                var take = Math.Min(length, words.Count - start);
                if (take <= 0)
                {
                    continue;
                }

                var phrase = words.Skip(start).Take(take).ToList();
                queries.Add(string.Join(' ', phrase));
                if (phrase.Count > 2)
                {
                    // A near miss: one word changed.
                    var changed = phrase.ToList();
                    changed[random.Next(changed.Count)] = vocabulary[random.Next(vocabulary.Length)];
                    queries.Add(string.Join(' ', changed));
                }
            }
        }

        // Splices of one shared line's end with another's start (and with itself).
        foreach (var a in shared)
        {
            foreach (var b in shared)
            {
                var wa = SqliteTailSearch.WrittenWords(a);
                var wb = SqliteTailSearch.WrittenWords(b);
                foreach (var n in new[] { 1, 4, 8, 9, 12 })
                {
                    queries.Add(string.Join(' ', wa.TakeLast(n).Concat(wb.Take(2))));
                    queries.Add(string.Join(' ', wa.TakeLast(2).Concat(wb.Take(n))));
                    // Across the gap: head end and tail start of one line.
                    queries.Add(string.Join(' ', wa.Take(8).TakeLast(Math.Min(n, 8)).Concat(wa.TakeLast(8).Take(2))));
                }
            }
        }

        var failures = new List<string>();
        foreach (var query in queries.Distinct())
        {
            var expected = bodies.Where((b, i) => SqliteTailSearch.Matches(query, b.Input, b.Output, null, max2)).Select(b => b.Id).ToHashSet();
            var found = (await SearchAsync(f, project, "\"" + query + "\"")).ToHashSet();
            if (!expected.SetEquals(found))
            {
                failures.Add($"'{query}': expected {expected.Count}, found {found.Count}");
            }
        }

        failures.ShouldBeEmpty();
    }

    private static string PayloadText(string input, string output, int max) =>
        RunLedger.Core.Payloads.PayloadText.RunSearchText(input, output, null, max);

    /// <summary>
    /// Every BMP character (and a few astral ranges) in a few positions: SQLite's tokenizer and the
    /// word rules EdgeCuts uses must find the same number of words, or a cut can fall inside a word.

    private static async Task<Guid> WriteAsync(StoreFixture f, long project, string input, string? output = null)
    {
        var id = Guid.CreateVersion7();
        var startedAt = StoreFixture.Day.AddSeconds(f.Scalar("SELECT count(*) FROM runs"));
        await f.WriteAsync(project, [new RunWrite { Id = id, Kind = RunKind.Llm, StartedAt = startedAt, Input = new RawJson(input), Output = new RawJson(output ?? "\"ok\"") }]);
        return id;
    }

    private static string Chat(string system, string user) =>
        JsonSerializer.Serialize(new[] { new { role = "system", content = system }, new { role = "user", content = user } });
}
