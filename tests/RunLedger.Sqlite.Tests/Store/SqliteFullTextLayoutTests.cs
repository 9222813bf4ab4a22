using Microsoft.Data.Sqlite;
using RunLedger.Core.Payloads;
using RunLedger.Core.Query;
using RunLedger.Core.Storage;
using static RunLedger.Sqlite.Tests.Store.SqliteFtsIndexingTests;
using static RunLedger.Sqlite.Tests.Store.SqliteSearchIndexFileTests;

namespace RunLedger.Sqlite.Tests.Store;

/// <summary>
/// The two layouts of the full-text index file (<see cref="SqliteStoreOptions.FullTextPositions"/>):
/// a file of the layout not configured is emptied at start-up and rebuilt in the configured one,
/// search stays exact meanwhile, and a file of the configured layout (the default one, as every
/// earlier version wrote it) is kept as it is.
/// </summary>
public sealed class SqliteFullTextLayoutTests
{
    /// <summary>Phrases and single words, and the runs (by name) each finds, newest first.</summary>
    private static readonly (string Filter, string Expected)[] Checks =
    [
        ("\"refund policy\"", "adjacent"),
        ("\"policy refund\"", "reversed"),
        ("refund", "reversed,apart,adjacent"),
        ("\"gpt-4o\"", "hyphenated,adjacent"),
        ("-\"refund policy\" kind:llm", "dotted-apart,dotted,hyphenated,reversed,apart"),
    ];

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task IndexFile_OfTheOtherLayout_IsEmptiedAtStartAndRebuiltInTheConfiguredOne(bool positions)
    {
        var options = new SqliteStoreOptions { FullTextPositions = positions };
        await using var f = await StoreFixture.OpenAsync(options: options);
        var (project, adjacent, apart) = await WriteTwoIndexedRunsAndCloseAsync(f);

        // An index file of the other layout, owned by this ledger and covering both runs, but with
        // a text the first run does not have: had it been trusted, "stale" would find that run.
        DeleteIndex(f);
        WriteIndexFile(f, positions ? SqliteSearchIndex.NoPositionsLayout : SqliteSearchIndex.PositionsLayout, "CASE WHEN seq = 1 THEN 'stale words' ELSE 'policy on a refund' END");

        // The server starts: the file is emptied at once, search reads bodies until the rebuild is done.
        await f.ReopenAsync(options);
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'stale'").ShouldBe(0);
        f.Scalar("PRAGMA fts.user_version").ShouldBe(SqliteSearchIndex.LayoutFor(options));
        (await SearchAsync(f, project, "\"stale\"")).ShouldBeEmpty();
        (await SearchAsync(f, project, "\"refund policy\"")).ShouldBe([adjacent]);
        await WaitUntilIndexedAsync(f);
        f.Scalar("SELECT count(*) FROM fts.sqlite_master WHERE name = 'runs_fts' AND sql LIKE '%detail=none%'").ShouldBe(positions ? 0 : 1);
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'refund'").ShouldBe(2);
        (await SearchAsync(f, project, "\"stale\"")).ShouldBeEmpty();
        (await SearchAsync(f, project, "\"refund policy\"")).ShouldBe([adjacent]);
        (await SearchAsync(f, project, "\"policy on\"")).ShouldBe([apart]);
        (await SearchAsync(f, project, "refund")).ShouldBe([apart, adjacent], ignoreOrder: true);
    }

    [Fact]
    public async Task SwitchingTheOption_OnReopen_RebuildsInTheNewLayout_AndSearchStaysRightThroughout()
    {
        await using var f = await StoreFixture.OpenAsync();
        var (project, names) = await SqlitePhraseSearchTests.WriteRunsAsync(f);
        await WaitUntilIndexedAsync(f);
        await CheckAsync(f, project, names);

        foreach (var positions in new[] { false, true, false, true })
        {
            var options = new SqliteStoreOptions { FullTextPositions = positions };
            await f.ReopenAsync(options);

            // Stopped straight away: the new index is empty or partly rebuilt, search reads the rest.
            await ((SqliteWriter)f.Store.Writer).StopIndexerAsync();
            f.Scalar("PRAGMA fts.user_version").ShouldBe(SqliteSearchIndex.LayoutFor(options));
            f.Scalar("SELECT count(*) FROM fts.sqlite_master WHERE name = 'runs_fts' AND sql LIKE '%detail=none%'").ShouldBe(positions ? 0 : 1);
            await CheckAsync(f, project, names);

            // Reopened with the same option, the rebuild goes on where it was, and the index alone answers.
            await f.ReopenAsync(options);
            await WaitUntilIndexedAsync(f);
            (await f.Store.CountUnindexedRunsAsync(default)).ShouldBe(0);
            f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'refund'").ShouldBe(3);
            await CheckAsync(f, project, names);
        }
    }

    [Fact]
    public async Task DefaultLedger_Reopened_KeepsItsIndexFile()
    {
        await using var f = await StoreFixture.OpenAsync();
        var (project, names) = await SqlitePhraseSearchTests.WriteRunsAsync(f);
        await WaitUntilIndexedAsync(f);
        await f.Store.DisposeAsync();

        // A mark only this file has: a rebuild would drop it.
        Execute(f, "INSERT INTO fts.runs_fts (rowid, text) VALUES (1000000, 'sentinel');");
        await f.ReopenAsync();
        await f.ReopenAsync(new SqliteStoreOptions { FullTextPositions = true });
        await WaitUntilIndexedAsync(f);

        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'sentinel'").ShouldBe(1);
        f.Scalar("PRAGMA fts.user_version").ShouldBe(SqliteSearchIndex.SharedTextLayout);
        await CheckAsync(f, project, names);
    }

    [Fact]
    public async Task IndexFile_WrittenBeforeTheLayoutOption_IsReusedAsItIsByDefault()
    {
        await using var f = await StoreFixture.OpenAsync();
        var (project, adjacent, apart) = await WriteTwoIndexedRunsAndCloseAsync(f);

        // The file exactly as earlier versions created it (layout 1), complete for this ledger,
        // plus one mark of its own that a rebuild would drop.
        DeleteIndex(f);
        WriteIndexFile(f, SqliteSearchIndex.PositionsLayout, "CASE WHEN seq = 1 THEN 'the refund policy' ELSE 'policy on a refund' END");
        Execute(f, "INSERT INTO fts.runs_fts (rowid, body) VALUES (1000000, 'sentinel');");

        await f.ReopenAsync();
        (await f.Store.CountUnindexedRunsAsync(default)).ShouldBe(0);
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'sentinel'").ShouldBe(1);
        f.Scalar("PRAGMA fts.user_version").ShouldBe(SqliteSearchIndex.PositionsLayout);
        (await SearchAsync(f, project, "\"refund policy\"")).ShouldBe([adjacent]);
        (await SearchAsync(f, project, "\"policy on\"")).ShouldBe([apart]);
        (await SearchAsync(f, project, "refund")).ShouldBe([apart, adjacent], ignoreOrder: true);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ReadOnlyTool_UsesTheServersIndex_InTheLayoutTheServerWrote(bool serverPositions)
    {
        var server = new SqliteStoreOptions { FullTextPositions = serverPositions };
        await using var f = await StoreFixture.OpenAsync(options: server);
        var (project, names) = await SqlitePhraseSearchTests.WriteRunsAsync(f);
        await WaitUntilIndexedAsync(f);

        // A backup or migration source configured with the other option, beside the running server.
        await using (var tool = new SqliteLedgerStore(f.DatabasePath, new SqliteStoreOptions { FullTextPositions = !serverPositions, IndexInBackground = false }, new PayloadOptions(), TimeProvider.System))
        {
            await tool.InitializeAsync(default);
            (await tool.CountUnindexedRunsAsync(default)).ShouldBe(0); // the server's index is attached and trusted
            foreach (var (filter, expected) in Checks)
            {
                var page = await tool.Reader.QueryRunsAsync(project, new RunQuery(FilterParser.Parse(filter, FilterTarget.Runs), 100, null), default);
                string.Join(',', page.Items.Select(r => names[r.Id])).ShouldBe(expected, filter);
            }
        }

        f.Scalar("PRAGMA fts.user_version").ShouldBe(SqliteSearchIndex.LayoutFor(server));
        await CheckAsync(f, project, names);
    }

    /// <summary>
    /// Two server processes on one ledger configured with different values: the second empties the
    /// index file at its start and rebuilds it in its own layout while the first keeps running with
    /// searches compiled for the other one. The first's searches stay exact and never hand FTS5 a
    /// query the file's layout cannot answer: a process trusts no file of another layout than the
    /// one its searches were compiled for (it reads bodies); a phrase query is an error without
    /// positions, and an index with shared lines does not hold them in the runs' rows.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task SecondProcess_WithTheOtherLayout_RebuildsTheFile_AndTheFirstStillSearchesExactly(bool firstPositions)
    {
        (string Filter, string Expected)[] checks =
        [
            .. Checks,
            ("\"refund receipt\"", ""), // both words in one run, not in a row
            ("\"4o gpt\"", ""),
            ("\"refund policy today\"", "adjacent"),
        ];
        var first = new SqliteStoreOptions { FullTextPositions = firstPositions };
        var other = new SqliteStoreOptions { FullTextPositions = !firstPositions };
        await using var f = await StoreFixture.OpenAsync(options: first);
        var (project, names) = await SqlitePhraseSearchTests.WriteRunsAsync(f);
        await WaitUntilIndexedAsync(f);
        await CheckAsync(f.Store, project, names, checks);

        await using var second = new SqliteLedgerStore(f.DatabasePath, other, new PayloadOptions(), TimeProvider.System);
        await second.InitializeAsync(default);
        f.Scalar("PRAGMA fts.user_version").ShouldBe(SqliteSearchIndex.LayoutFor(other));
        f.Scalar("SELECT count(*) FROM fts.sqlite_master WHERE name = 'runs_fts' AND sql LIKE '%detail=none%'").ShouldBe(firstPositions ? 1 : 0);

        // Right after the second start (the new file empty or partly rebuilt) and once it is rebuilt.
        await CheckAsync(f.Store, project, names, checks);
        await CheckAsync(second, project, names, checks);
        await WaitUntilIndexedAsync(f);
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'refund'").ShouldBe(3);
        await CheckAsync(f.Store, project, names, checks);
        await CheckAsync(second, project, names, checks);

        // The first process reports what its searches read from bodies: every run (it cannot use a
        // file of another layout) until it restarts.
        (await f.Store.CountUnindexedRunsAsync(default)).ShouldBe(names.Count);
        (await second.CountUnindexedRunsAsync(default)).ShouldBe(0);
    }

    /// <summary>Writes "the refund policy" and "policy on a refund" as two runs, waits until they are indexed and closes the store.</summary>
    private static async Task<(long Project, Guid Adjacent, Guid Apart)> WriteTwoIndexedRunsAndCloseAsync(StoreFixture f)
    {
        var project = (await f.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;
        var adjacent = await WriteAsync(f, project, "the refund policy");
        var apart = await WriteAsync(f, project, "policy on a refund");
        await WaitUntilIndexedAsync(f);
        await f.Store.DisposeAsync();
        return (project, adjacent, apart);
    }

    private static async Task CheckAsync(SqliteLedgerStore store, long project, Dictionary<Guid, string> names, (string Filter, string Expected)[] checks)
    {
        foreach (var (filter, expected) in checks)
        {
            var page = await store.Reader.QueryRunsAsync(project, new RunQuery(FilterParser.Parse(filter, FilterTarget.Runs), 100, null), default);
            string.Join(',', page.Items.Select(r => names[r.Id])).ShouldBe(expected, filter);
        }
    }

    private static async Task CheckAsync(StoreFixture f, long project, Dictionary<Guid, string> names)
    {
        foreach (var (filter, expected) in Checks)
        {
            (await SqlitePhraseSearchTests.NamesAsync(f, project, names, filter)).ShouldBe(expected, filter);
        }
    }

    /// <summary>
    /// An index file of <paramref name="layout"/> made by hand, exactly as that layout's schema
    /// is: owned by this ledger, covering every run, each with the text <paramref name="textSql"/>
    /// (an SQL expression over the run's <c>seq</c>).
    /// </summary>
    private static void WriteIndexFile(StoreFixture f, int layout, string textSql)
    {
        using var connection = new SqliteConnection($"Data Source={f.IndexPath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        var detail = layout == SqliteSearchIndex.NoPositionsLayout ? "detail=none, " : "";
        command.CommandText =
            "ATTACH DATABASE @ledger AS ledger; " +
            "CREATE TABLE fts_progress (id INTEGER PRIMARY KEY CHECK (id = 1), token BLOB, indexed_seq INTEGER NOT NULL, indexed_run BLOB); " +
            "INSERT INTO fts_progress SELECT 1, (SELECT token FROM ledger.fts_owner), seq, id FROM ledger.runs ORDER BY seq DESC LIMIT 1; " +
            $"CREATE VIRTUAL TABLE runs_fts USING fts5(body, content='', contentless_delete=1, {detail}tokenize='unicode61 remove_diacritics 2'); " +
            "INSERT INTO runs_fts (runs_fts, rank) VALUES ('automerge', 8); " +
            $"INSERT INTO runs_fts (rowid, body) SELECT seq, {textSql} FROM ledger.runs; " +
            $"PRAGMA user_version = {layout};";
        command.Parameters.AddWithValue("@ledger", f.DatabasePath);
        command.ExecuteNonQuery();
    }
}
