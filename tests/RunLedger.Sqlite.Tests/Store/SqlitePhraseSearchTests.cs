using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Payloads;
using RunLedger.Core.Query;
using RunLedger.Core.Storage;
using static RunLedger.Sqlite.Tests.Store.SqliteFtsIndexingTests;

namespace RunLedger.Sqlite.Tests.Store;

/// <summary>
/// A phrase of several words matches only runs where its words stand in a row, whether the runs
/// are in the index, not yet indexed, or some of each; in both layouts of the full-text index
/// (<see cref="SqliteStoreOptions.FullTextPositions"/>): with word positions the index answers the
/// phrase, without them (FTS5 <c>detail=none</c>) it names the runs holding every word and their
/// bodies are checked.
/// </summary>
#pragma warning disable SA1402, MA0048 // the two layouts' classes are one line each, beside the tests they run
public sealed class SqlitePhraseSearchWithPositionsTests : SqlitePhraseSearchTests
{
    protected override bool Positions => true;
}

public sealed class SqlitePhraseSearchWithoutPositionsTests : SqlitePhraseSearchTests
{
    protected override bool Positions => false;
}
#pragma warning restore SA1402, MA0048

public abstract class SqlitePhraseSearchTests
{
    private const string Adjacent = "adjacent";
    private const string Apart = "apart";
    private const string Reversed = "reversed";
    private const string Hyphenated = "hyphenated";
    private const string Dotted = "dotted";
    private const string DottedApart = "dotted-apart";

    /// <summary>The layout under test: <see cref="SqliteStoreOptions.FullTextPositions"/>.</summary>
    protected abstract bool Positions { get; }

    private Task<StoreFixture> OpenAsync() => StoreFixture.OpenAsync(options: new SqliteStoreOptions { FullTextPositions = Positions });

    /// <summary>Each search and the runs (by name) it must find, newest first.</summary>
    public static TheoryData<string, string> Searches => new()
    {
        { "\"refund policy\"", Adjacent },
        { "\"REFUND  Policy\"", Adjacent },
        { "\"policy refund\"", Reversed },
        { "\"the refund policy today\"", Adjacent },
        { "\"refund policy said\"", "" },
        { "refund", $"{Reversed},{Apart},{Adjacent}" },
        { "\"gpt-4o\"", $"{Hyphenated},{Adjacent}" },
        { "\"gpt 4o\"", $"{Hyphenated},{Adjacent}" },
        { "\"4o gpt\"", "" },
        { "\"System.TimeoutException\"", $"{Dotted},{Adjacent}" },
        { "\"system timeoutexception\"", $"{Dotted},{Adjacent}" },
        { "\"refund policy\" status:failed", Adjacent },
        { "\"refund policy\" status:succeeded", "" },
        { "-\"refund policy\"", $"{DottedApart},{Dotted},{Hyphenated},{Reversed},{Apart}" },
        { "refund -\"refund policy\"", $"{Reversed},{Apart}" },
        { "NOT \"gpt-4o\" kind:llm", $"{DottedApart},{Dotted},{Reversed},{Apart}" },
        { "\"refund policy\" OR \"gpt-4o\"", $"{Hyphenated},{Adjacent}" },
        { "\"...\"", "" },
        // A NUL ends FTS5's query string: the index is asked for the words alone.
        { "\"refund\u0000policy\"", Adjacent },
        { "\"refund\u0000\"", $"{Reversed},{Apart},{Adjacent}" },
        { "-\"...\"", $"{DottedApart},{Dotted},{Hyphenated},{Reversed},{Apart},{Adjacent}" },
    };

    [Theory]
    [MemberData(nameof(Searches))]
    public async Task Phrase_InIndexedRuns_MatchesOnlyWordsInARow(string filter, string expected)
    {
        await using var f = await OpenAsync();
        var (project, names) = await WriteRunsAsync(f);
        await WaitUntilIndexedAsync(f);
        (await f.Store.CountUnindexedRunsAsync(default)).ShouldBe(0);

        (await NamesAsync(f, project, names, filter)).ShouldBe(expected);
    }

    [Theory]
    [MemberData(nameof(Searches))]
    public async Task Phrase_InRunsNotYetIndexed_MatchesOnlyWordsInARow(string filter, string expected)
    {
        await using var f = await OpenAsync();
        await ((SqliteWriter)f.Store.Writer).StopIndexerAsync();
        var (project, names) = await WriteRunsAsync(f);
        (await f.Store.CountUnindexedRunsAsync(default)).ShouldBe(names.Count);

        (await NamesAsync(f, project, names, filter)).ShouldBe(expected);
    }

    [Fact]
    public async Task Index_HasTheConfiguredLayout()
    {
        await using var f = await OpenAsync();
        await WriteRunsAsync(f);
        await WaitUntilIndexedAsync(f);

        f.Scalar("PRAGMA fts.user_version").ShouldBe(Positions ? SqliteSearchIndex.SharedTextLayout : SqliteSearchIndex.NoPositionsLayout);
        f.Scalar("SELECT count(*) FROM fts.sqlite_master WHERE name = 'runs_fts' AND sql LIKE '%detail=none%'").ShouldBe(Positions ? 0 : 1);
        // The index's candidates for "refund policy": every run holding both words, in a row or not.
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH '\"refund\" \"policy\"'").ShouldBe(3);
        if (Positions)
        {
            // With positions the index alone answers the phrase.
            f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH '\"refund policy\"'").ShouldBe(1);
        }
    }

    [Fact]
    public async Task Phrase_PagedAcrossIndexedAndUnindexedRuns_ReturnsEachMatchOnceInOrder()
    {
        await using var f = await OpenAsync();
        var project = (await f.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;
        var expected = new List<Guid>();

        // Forty runs, one minute apart: every third has the words in a row, the others hold both apart.
        async Task WriteAsync(int from, int to)
        {
            var runs = new List<RunWrite>();
            for (var i = from; i < to; i++)
            {
                var id = Guid.CreateVersion7();
                var text = i % 3 == 0 ? $"step {i}: alpha beta gamma" : $"step {i}: beta then alpha, gamma";
                runs.Add(new RunWrite { Id = id, Kind = RunKind.Llm, StartedAt = StoreFixture.Day.AddMinutes(i), Input = RawJson.FromString(text) });
                if (i % 3 == 0)
                {
                    expected.Insert(0, id);
                }
            }

            await f.WriteAsync(project, runs);
        }

        await WriteAsync(0, 20);
        await WaitUntilIndexedAsync(f);
        await ((SqliteWriter)f.Store.Writer).StopIndexerAsync();
        await WriteAsync(20, 40);
        (await f.Store.CountUnindexedRunsAsync(default)).ShouldBe(20);

        var filter = FilterParser.Parse("\"alpha beta\"", FilterTarget.Runs);
        var found = new List<Guid>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await f.Store.Reader.QueryRunsAsync(project, new RunQuery(filter, 4, cursor), default);
            page.Items.Count.ShouldBeLessThanOrEqualTo(4);
            found.AddRange(page.Items.Select(r => r.Id));
            cursor = page.NextCursor;
            pages++;
        }
        while (cursor is not null && pages < 20);

        found.ShouldBe(expected);
        pages.ShouldBe(4); // 14 matches in pages of 4
    }

    internal static async Task<string> NamesAsync(StoreFixture f, long project, Dictionary<Guid, string> names, string filter)
    {
        var page = await f.Store.Reader.QueryRunsAsync(project, new RunQuery(FilterParser.Parse(filter, FilterTarget.Runs), 100, null), default);
        return string.Join(',', page.Items.Select(r => names[r.Id]));
    }

    /// <summary>Runs one minute apart (listed newest first by search) whose texts hold the same words in and out of a row.</summary>
    internal static async Task<(long Project, Dictionary<Guid, string> Names)> WriteRunsAsync(StoreFixture f)
    {
        var project = (await f.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;
        (string Name, RunStatus Status, string Input, string? Output)[] runs =
        [
            (Adjacent, RunStatus.Failed, "Please check the refund policy today.", "gpt-4o failed with System.TimeoutException after 30 s"),
            (Apart, RunStatus.Succeeded, "A policy says: no refund without a receipt.", "the gpt model answered: 4o"),
            (Reversed, RunStatus.Succeeded, "policy refund", null),
            (Hyphenated, RunStatus.Succeeded, "Switched the model to gpt-4o.", null),
            (Dotted, RunStatus.Succeeded, "It threw System.TimeoutException again.", null),
            (DottedApart, RunStatus.Succeeded, "System error: a TimeoutException in the system again.", "TimeoutException; System"),
        ];
        var names = new Dictionary<Guid, string>();
        var writes = new List<RunWrite>();
        for (var i = 0; i < runs.Length; i++)
        {
            var id = Guid.CreateVersion7();
            names[id] = runs[i].Name;
            writes.Add(new RunWrite
            {
                Id = id,
                Name = runs[i].Name,
                Kind = RunKind.Llm,
                Status = runs[i].Status,
                StartedAt = StoreFixture.Day.AddMinutes(i),
                EndedAt = StoreFixture.Day.AddMinutes(i).AddSeconds(1),
                Input = RawJson.FromString(runs[i].Input),
                Output = runs[i].Output is { } output ? RawJson.FromString(output) : null,
            });
        }

        await f.WriteAsync(project, writes);
        return (project, names);
    }
}
