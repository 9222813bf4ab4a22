using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using static RunLedger.Sqlite.Tests.Store.SqliteFtsIndexingTests;

namespace RunLedger.Sqlite.Tests.Store;

/// <summary>
/// Pruning shared-line blocks (layout 3): block ids reused after a prune, FTS5
/// tombstones on <c>blocks_fts</c> under churn, the prune statements' plans, a pending list
/// replayed after a crash, and the start-up handling of older index files.
/// </summary>
public sealed class SqliteSharedTextPruneEdgeTests
{
    // ---- unit level: SqliteSharedText on an index file ----

    [Fact]
    public void ReusedBlockId_OldLinesWordsNoLongerMatch_NewLinesDo_AlsoAfterMerges()
    {
        using var dir = new TempDir();
        using var index = OpenIndex(dir.Path);
        var shared = new SqliteSharedText();

        // Block 1: line "keepone", held by seq 1 (stays). Block 2: line "alpha", held by seq 2.
        var keep = MakeBlock(index, shared, Line("keepone"), seq: 1);
        var alpha = MakeBlock(index, shared, Line("alpha"), seq: 2);
        keep.ShouldBe(1);
        alpha.ShouldBe(2);

        // Seq 2 lets alpha go: block 2 pruned; the next block (beta) gets id 2 again.
        Tx(index, s =>
        {
            shared.Release(s, 2);
            shared.PruneReleased(s).ShouldBe(1);
        });
        var beta = MakeBlock(index, shared, Line("beta"), seq: 3);
        beta.ShouldBe(2);

        Count(index, "SELECT count(*) FROM blocks_fts WHERE blocks_fts MATCH 'alpha'").ShouldBe(0);
        Count(index, "SELECT rowid FROM blocks_fts WHERE blocks_fts MATCH 'beta'").ShouldBe(2);
        Count(index, "SELECT count(*) FROM blocks_fts WHERE blocks_fts MATCH 'w40'").ShouldBe(2);

        // After FTS5 merges the segments (tombstones applied), still so.
        Exec(index, "INSERT INTO blocks_fts (blocks_fts) VALUES ('optimize');");
        Count(index, "SELECT count(*) FROM blocks_fts WHERE blocks_fts MATCH 'alpha'").ShouldBe(0);
        Count(index, "SELECT rowid FROM blocks_fts WHERE blocks_fts MATCH 'beta'").ShouldBe(2);
        Count(index, "SELECT count(*) FROM blocks_fts WHERE blocks_fts MATCH 'w40'").ShouldBe(2);
        Exec(index, "INSERT INTO blocks_fts (blocks_fts, rank) VALUES ('integrity-check', 0);");
    }

    [Fact]
    public void BlockChurn_SameIdReusedManyTimes_OnlyTheLiveLineMatches_AndBlocksFtsStaysSmall()
    {
        using var dir = new TempDir();
        using var index = OpenIndex(dir.Path);
        var shared = new SqliteSharedText();
        MakeBlock(index, shared, Line("keepone"), seq: 1).ShouldBe(1);
        var oneCycle = 0L;
        const int cycles = 400;
        for (var i = 0; i < cycles; i++)
        {
            var word = "day" + i.ToString(CultureInfo.InvariantCulture);
            var seq = 10 + i;
            MakeBlock(index, shared, Line(word), seq).ShouldBe(2);
            Tx(index, s =>
            {
                shared.Release(s, seq);
                shared.PruneReleased(s).ShouldBe(1);
            });
            if (i == 10)
            {
                oneCycle = Count(index, "SELECT sum(length(block)) FROM blocks_fts_data");
            }
        }

        for (var i = 0; i < cycles; i += 37)
        {
            Count(index, $"SELECT count(*) FROM blocks_fts WHERE blocks_fts MATCH 'day{i}'").ShouldBe(0);
        }

        Count(index, "SELECT count(*) FROM blocks_fts WHERE blocks_fts MATCH 'w40'").ShouldBe(1);
        Exec(index, "INSERT INTO blocks_fts (blocks_fts, rank) VALUES ('integrity-check', 0);");

        // Bytes of blocks_fts after 400 lines came and went: bounded (not 40x the early size).
        var bytes = Count(index, "SELECT sum(length(block)) FROM blocks_fts_data");
        TestContext.Current.TestOutputHelper?.WriteLine($"blocks_fts_data bytes after 11 cycles {oneCycle}, after {cycles}: {bytes}");
        bytes.ShouldBeLessThan(oneCycle * 4);
    }

    [Fact]
    public void BlockMadeAndPrunedInOneTransaction_ItsIdReused_OldWordsDoNotMatch()
    {
        using var dir = new TempDir();
        using var index = OpenIndex(dir.Path);
        var shared = new SqliteSharedText();
        MakeBlock(index, shared, Line("keepone"), seq: 1).ShouldBe(1);

        // Seven sightings of "alpha" in earlier transactions; the eighth makes block 2 and, in the
        // same transaction, its only run lets it go (a run inserted then updated before the indexer
        // reached it).
        for (var i = 1; i < SqliteSharedText.MinSightings; i++)
        {
            Tx(index, s => shared.Split(s, NextRun(), Line("alpha")).Blocks.ShouldBeEmpty());
        }

        Tx(index, s =>
        {
            shared.ForgetBlocks();
            var block = shared.Split(s, NextRun(), Line("alpha")).Blocks.ShouldHaveSingleItem();
            block.ShouldBe(2);
            s.Hold.Bind(1, block);
            s.Hold.Bind(2, 5);
            s.Hold.ExecuteNonQuery();
            shared.Release(s, 5);
            shared.PruneReleased(s).ShouldBe(1);
        });
        Count(index, "SELECT count(*) FROM blocks_fts WHERE blocks_fts MATCH 'alpha'").ShouldBe(0);

        // Block 2 again, for "beta".
        MakeBlock(index, shared, Line("beta"), seq: 6).ShouldBe(2);
        Count(index, "SELECT count(*) FROM blocks_fts WHERE blocks_fts MATCH 'alpha'").ShouldBe(0);
        Count(index, "SELECT count(*) FROM blocks_fts WHERE blocks_fts MATCH 'beta'").ShouldBe(1);
        Exec(index, "INSERT INTO blocks_fts (blocks_fts) VALUES ('optimize');");
        Count(index, "SELECT count(*) FROM blocks_fts WHERE blocks_fts MATCH 'alpha'").ShouldBe(0);
        Exec(index, "INSERT INTO blocks_fts (blocks_fts, rank) VALUES ('integrity-check', 0);");
    }

    [Fact]
    public async Task RunInsertedThenUpdatedBeforeTheIndexer_BlockMadeAndPrunedInOneChunk_SearchExact()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = (await f.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;
        var keep = await WriteLineAsync(f, project, Prompt("keep"));
        var alpha = new List<Guid>();
        for (var i = 1; i < SqliteSharedText.MinSightings; i++)
        {
            alpha.Add(await WriteChatAsync(f, project, Prompt("alpha"), "user " + i.ToString(CultureInfo.InvariantCulture) + " asks"));
        }

        await WaitUntilIndexedAsync(f);
        f.Scalar("SELECT count(*) FROM fts.fts_blocks").ShouldBe(1);

        // The eighth sighting and, at once, its run's new prompt: usually one chunk (the indexer
        // waits 200 ms) that makes block 2 and prunes it.
        var x = await WriteChatAsync(f, project, Prompt("alpha"), "user 8 asks");
        await f.WriteAsync(project, [new RunWrite { Id = x, Input = new RawJson(Chat("replaced prompt", "after")) }]);
        await WaitUntilIndexedAsync(f);
        f.Scalar("SELECT count(*) FROM fts.fts_blocks").ShouldBe(1);
        f.Scalar("SELECT count(*) FROM fts.blocks_fts WHERE blocks_fts MATCH 'alpha'").ShouldBe(0);

        // A new line becomes a block, with id 2 again: alpha's words must not name its runs.
        var beta = await WriteLineAsync(f, project, Prompt("beta"));
        f.Scalar("SELECT max(id) FROM fts.fts_blocks").ShouldBe(2);
        (await SearchAsync(f, project, "alpha")).ShouldBe([.. Enumerable.Reverse(alpha)]);
        (await SearchAsync(f, project, "\"alpha p001\"")).ShouldBe([.. Enumerable.Reverse(alpha)]);
        (await SearchAsync(f, project, "beta")).ShouldBe([.. Enumerable.Reverse(beta)]);
        (await SearchAsync(f, project, "\"replaced prompt\"")).ShouldBe([x]);
        (await SearchAsync(f, project, "keep")).ShouldBe([.. Enumerable.Reverse(keep)]);
    }

    [Fact]
    public async Task OneRunReindexedEightTimes_ItsLongLineIsNotABlock()
    {
        // "Only lines that many runs share become blocks": each re-index of a changed run counts
        // its long lines again, so one run whose output is updated eight times makes its input's
        // line a block that one run holds (and, with pruning, again after each prune).
        await using var f = await StoreFixture.OpenAsync();
        var project = (await f.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;
        var run = await WriteChatAsync(f, project, Prompt("solo"), "one user");
        await WaitUntilIndexedAsync(f);
        for (var i = 0; i < SqliteSharedText.MinSightings; i++)
        {
            await f.WriteAsync(project, [new RunWrite { Id = run, Output = RawJson.FromString("answer " + i.ToString(CultureInfo.InvariantCulture)) }]);
            await WaitUntilIndexedAsync(f);
        }

        f.Scalar("SELECT count(DISTINCT seq) FROM fts.fts_run_blocks").ShouldBe(0);
        f.Scalar("SELECT count(*) FROM fts.fts_blocks").ShouldBe(0);
    }

    [Fact]
    public async Task OneRunRepeatingALineEightTimes_DoesNotMakeItABlock()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = (await f.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;
        var line = Prompt("again");
        var run = await WriteChatAsync(f, project, string.Join("\n", Enumerable.Repeat(line, SqliteSharedText.MinSightings + 1)), "one user");
        await WaitUntilIndexedAsync(f);
        f.Scalar("SELECT count(*) FROM fts.fts_blocks").ShouldBe(0);
        (await SearchAsync(f, project, "again")).ShouldBe([run]);
    }

    [Fact]
    public void PruneAndUnholdStatements_SeekAnIndex()
    {
        using var dir = new TempDir();
        using var index = OpenIndex(dir.Path);
        var prune = Plan(index, "DELETE FROM fts_blocks WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM fts_run_blocks WHERE block = ?1) RETURNING hash;");
        var unhold = Plan(index, "DELETE FROM fts_run_blocks WHERE seq = ?1 RETURNING block;");
        TestContext.Current.TestOutputHelper?.WriteLine(prune + "\n--\n" + unhold);
        prune.ShouldNotContain("SCAN");
        unhold.ShouldNotContain("SCAN");
    }

    // ---- store level ----

    [Fact]
    public async Task ChunkThatPrunesTheNewestBlockAndLaterMakesOne_ReusedId_SearchExact()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = (await f.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;

        // Block 1: line "keep" (10 runs). Block 2: line "alpha" (10 runs).
        var keep = await WriteLineAsync(f, project, Prompt("keep"));
        var alpha = await WriteLineAsync(f, project, Prompt("alpha"));
        f.Scalar("SELECT max(id) FROM fts.fts_blocks").ShouldBe(2);

        // The three runs listed with alpha get new prompts in one batch, with ten new runs of line
        // "beta" (its eighth sighting makes a block) in the same batch: one index chunk at most.
        var beta = new List<Guid>();
        var writes = new List<RunWrite>();
        foreach (var id in alpha[(SqliteSharedText.MinSightings - 1)..])
        {
            writes.Add(new RunWrite { Id = id, Input = new RawJson(Chat("replaced prompt", "after")) });
        }

        var start = f.Scalar("SELECT max(seq) FROM runs");
        for (var i = 1; i <= 10; i++)
        {
            var id = Guid.CreateVersion7();
            beta.Add(id);
            writes.Add(new RunWrite { Id = id, Kind = RunKind.Llm, StartedAt = StoreFixture.Day.AddSeconds(start + i), Input = new RawJson(Chat(Prompt("beta"), "b " + i.ToString(CultureInfo.InvariantCulture) + " asks")), Output = RawJson.FromString("ok") });
        }

        await f.WriteAsync(project, writes);
        await WaitUntilIndexedAsync(f);

        // Whatever order: alpha gone, beta a block, no listing points to a missing block.
        f.Scalar("SELECT count(*) FROM fts.fts_blocks").ShouldBe(2);
        f.Scalar("SELECT count(*) FROM fts.fts_run_blocks WHERE block NOT IN (SELECT id FROM fts.fts_blocks)").ShouldBe(0);

        // Then alpha comes back (8 sightings): a block again, id max + 1.
        var again = await WriteLineAsync(f, project, Prompt("alpha"));
        f.Scalar("SELECT count(*) FROM fts.fts_blocks").ShouldBe(3);
        f.Scalar("SELECT count(*) FROM fts.fts_run_blocks WHERE block NOT IN (SELECT id FROM fts.fts_blocks)").ShouldBe(0);

        Guid[] alphaAll = [.. Enumerable.Reverse(again), .. Enumerable.Reverse(alpha[..(SqliteSharedText.MinSightings - 1)])];
        (await SearchAsync(f, project, "alpha")).ShouldBe(alphaAll);
        (await SearchAsync(f, project, "\"alpha p001 p002\"")).ShouldBe(alphaAll);
        (await SearchAsync(f, project, "beta")).ShouldBe([.. Enumerable.Reverse(beta)]);
        (await SearchAsync(f, project, "\"p100 b 9 asks\"")).ShouldBe([beta[8]]);
        (await SearchAsync(f, project, "\"p100 user 9 asks\"")).ShouldBe([again[8], keep[8]]);
        (await SearchAsync(f, project, "\"replaced prompt\"")).Length.ShouldBe(3);
        (await SearchAsync(f, project, "keep")).ShouldBe([.. Enumerable.Reverse(keep)]);
        (await SearchAsync(f, project, "\"p049 p050 p051\"")).Length.ShouldBe(keep.Count + alphaAll.Length + beta.Count);
    }

    [Fact]
    public async Task PendingRowsReplayedAfterACrash_BlocksListingsAndSearchUnchanged()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = (await f.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;
        var keep = await WriteLineAsync(f, project, Prompt("keep"));
        var alpha = await WriteLineAsync(f, project, Prompt("alpha"));
        foreach (var id in alpha[(SqliteSharedText.MinSightings - 1)..])
        {
            await f.WriteAsync(project, [new RunWrite { Id = id, Input = new RawJson(Chat("replaced prompt", "after")) }]);
        }

        await WaitUntilIndexedAsync(f);
        f.Scalar("SELECT count(*) FROM fts.fts_blocks").ShouldBe(1);
        var listings = f.Scalar("SELECT count(*) FROM fts.fts_run_blocks");

        // The index commit reached the disk but the pending rows' removal did not: they are all
        // back (a crash between the two commits), for every run, held or not.
        await f.Store.DisposeAsync();
        Execute(f, "INSERT INTO fts_pending (seq, gen) SELECT seq, 1 FROM runs;");
        await f.ReopenAsync();
        await WaitUntilIndexedAsync(f);
        f.Scalar("SELECT count(*) FROM fts.fts_blocks").ShouldBe(1);
        // Re-indexed from their bodies, the first seven runs of "keep" are now listed with its
        // block too (the block exists): 3 -> 10 listings, same answers.
        f.Scalar("SELECT count(*) FROM fts.fts_run_blocks").ShouldBe(listings + SqliteSharedText.MinSightings - 1);
        (await SearchAsync(f, project, "alpha")).ShouldBe([.. Enumerable.Reverse(alpha[..(SqliteSharedText.MinSightings - 1)])]);
        (await SearchAsync(f, project, "\"p049 p050 p051\"")).Length.ShouldBe(keep.Count + SqliteSharedText.MinSightings - 1);
        (await SearchAsync(f, project, "\"p100 user 9 asks\"")).ShouldBe([keep[8]]);
    }

    [Fact]
    public async Task IndexFileOfAnEarlierVersion_WithBlocks_RebuiltOnce_NotAtEveryStart()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = (await f.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;
        var runs = await WriteLineAsync(f, project, Prompt("today"));
        await f.Store.DisposeAsync();
        Execute(f,
            "DROP TABLE fts.blocks_fts; CREATE VIRTUAL TABLE fts.blocks_fts USING fts5(body, content='', tokenize='unicode61 remove_diacritics 2'); " +
            $"INSERT INTO fts.blocks_fts (rowid, body) VALUES (1, '{Prompt("today")}');");
        await f.ReopenAsync();
        await WaitUntilIndexedAsync(f);
        f.Scalar("SELECT count(*) FROM fts.fts_blocks").ShouldBe(1);
        await f.Store.DisposeAsync();

        // A word in runs_fts that no run has: a second rebuild would remove it.
        Execute(f, "INSERT INTO fts.runs_fts (rowid, text) VALUES (1000000, 'sentinel');");
        await f.ReopenAsync();
        await WaitUntilIndexedAsync(f);
        await f.ReopenAsync();
        await WaitUntilIndexedAsync(f);
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'sentinel'").ShouldBe(1);
        (await SearchAsync(f, project, "\"p049 p050 p051\"")).ShouldBe([.. Enumerable.Reverse(runs)]);
    }

    [Fact]
    public async Task LayoutOneFile_KeptAndNotRebuilt_AndItsEmptyBlocksTableMadeAgainOnce()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = (await f.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;
        await WriteChatAsync(f, project, "a short prompt", "user asks");
        await WaitUntilIndexedAsync(f);
        await f.Store.DisposeAsync();

        // A file as layout 1 (positions, body column) of an earlier version: old blocks_fts, empty.
        Execute(f,
            "DROP TABLE fts.runs_fts; CREATE VIRTUAL TABLE fts.runs_fts USING fts5(body, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2'); " +
            "DROP TABLE fts.blocks_fts; CREATE VIRTUAL TABLE fts.blocks_fts USING fts5(body, content='', tokenize='unicode61 remove_diacritics 2'); " +
            "INSERT INTO fts.runs_fts (rowid, body) SELECT seq, 'short prompt user asks' FROM runs; " +
            "INSERT INTO fts.runs_fts (rowid, body) VALUES (1000000, 'sentinel'); PRAGMA fts.user_version = 1;");
        await f.ReopenAsync();
        await WaitUntilIndexedAsync(f);
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'sentinel'").ShouldBe(1);
        f.Scalar("PRAGMA fts.user_version").ShouldBe(1);
        f.Scalar("SELECT sql LIKE '%contentless_delete=1%' FROM fts.sqlite_master WHERE name = 'blocks_fts'").ShouldBe(1);
        await f.ReopenAsync();
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'sentinel'").ShouldBe(1);
    }

    [Fact]
    public async Task TwoProcessesOnOneLedger_BothIndexAndPrune_ListingsNameLiveBlocks_SearchExact()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = (await f.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;
        await using var other = new SqliteLedgerStore(f.DatabasePath, new SqliteStoreOptions(), new RunLedger.Core.Payloads.PayloadOptions(), TimeProvider.System);
        await other.InitializeAsync(default);
        var stores = new[] { f.Store, other };
        var expected = new Dictionary<string, List<Guid>>();
        var replaced = new List<Guid>();
        var n = 0;
        for (var round = 0; round < 6; round++)
        {
            var word = "line" + round.ToString(CultureInfo.InvariantCulture);
            var ids = new List<Guid>();
            for (var i = 0; i < 20; i++)
            {
                var id = Guid.CreateVersion7();
                ids.Add(id);
                n++;
                await Write(stores[(i + round) % 2], project, new RunWrite { Id = id, Kind = RunKind.Llm, StartedAt = StoreFixture.Day.AddSeconds(n), Input = new RawJson(Chat(Prompt(word), "u" + n.ToString(CultureInfo.InvariantCulture))), Output = RawJson.FromString("ok") });
            }

            expected[word] = ids;

            // Every run of the previous round gets a new prompt, half through each store.
            if (round > 0)
            {
                var prev = "line" + (round - 1).ToString(CultureInfo.InvariantCulture);
                var j = 0;
                foreach (var id in expected[prev])
                {
                    await Write(stores[j++ % 2], project, new RunWrite { Id = id, Input = new RawJson(Chat("replaced prompt", "after")) });
                    replaced.Add(id);
                }

                expected[prev] = [];
            }

            await WaitUntilIndexedAsync(f);
            f.Scalar("SELECT count(*) FROM fts.fts_blocks").ShouldBe(1);
            f.Scalar("SELECT count(*) FROM fts.fts_run_blocks WHERE block NOT IN (SELECT id FROM fts.fts_blocks)").ShouldBe(0);
            f.Scalar("SELECT count(*) FROM fts.fts_blocks WHERE id NOT IN (SELECT block FROM fts.fts_run_blocks)").ShouldBe(0);
            foreach (var (w, holders) in expected)
            {
                (await SearchAsync(f, project, w)).ShouldBe([.. Enumerable.Reverse(holders)], w);
                (await SearchAsync(f, project, $"\"{w} p001 p002\"")).ShouldBe([.. Enumerable.Reverse(holders)], w);
            }

            (await SearchAsync(f, project, "\"replaced prompt\"")).Length.ShouldBe(replaced.Count);
        }

        f.Scalar("SELECT count(*) FROM fts.fts_blocks").ShouldBeLessThanOrEqualTo(1);
    }

    private static async Task Write(SqliteLedgerStore store, long project, RunWrite run)
    {
        var batch = new WriteBatch { ProjectId = project, Source = "test", ReceivedAt = StoreFixture.Day.AddHours(12), Runs = [run] };
        (await store.Writer.WriteAsync([batch], default))[0].Error.ShouldBeNull();
    }

    // ---- helpers ----

    private sealed class TempDir : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "runledger-prune-tests", Guid.NewGuid().ToString("N"));

        public TempDir() => Directory.CreateDirectory(Path);

        public void Dispose()
        {
            SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static SqliteConnection OpenIndex(string dir)
    {
        var index = new SqliteConnection($"Data Source={System.IO.Path.Combine(dir, "x.fts")};Pooling=False");
        index.Open();
        Exec(index, "PRAGMA journal_mode=WAL; " + SqliteSearchIndex.BlockTablesSql("main"));
        return index;
    }

    /// <summary>A sequence number for a sighting by another run than the one before.</summary>
    private static long NextRun() => Interlocked.Increment(ref _runs);

    private static long _runs;

    /// <summary>Sights <paramref name="line"/> until it is a block (each sighting its own transaction) and lists <paramref name="seq"/> with it.</summary>
    private static long MakeBlock(SqliteConnection index, SqliteSharedText shared, byte[] line, long seq)
    {
        long id = 0;
        for (var i = 0; i < SqliteSharedText.MinSightings + 2 && id == 0; i++)
        {
            Tx(index, s =>
            {
                shared.ForgetBlocks();
                if (shared.Split(s, NextRun(), line).Blocks is [var block])
                {
                    id = block;
                    s.Hold.Bind(1, block);
                    s.Hold.Bind(2, seq);
                    s.Hold.ExecuteNonQuery();
                }
            });
        }

        id.ShouldNotBe(0);
        return id;
    }

    private static void Tx(SqliteConnection index, Action<SqliteSharedText.Statements> action)
    {
        using var transaction = index.BeginTransaction(deferred: false);
        using (var statements = new SqliteSharedText.Statements(index))
        {
            action(statements);
        }

        transaction.Commit();
    }

    private static byte[] Line(string first) =>
        Encoding.UTF8.GetBytes(first + " " + string.Join(' ', Enumerable.Range(1, 80).Select(i => "w" + i.ToString(CultureInfo.InvariantCulture) + "x" + first)) + " w40");

    private static void Exec(SqliteConnection index, string sql)
    {
        using var command = index.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static long Count(SqliteConnection index, string sql)
    {
        using var command = index.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar() ?? 0L, CultureInfo.InvariantCulture);
    }

    private static string Plan(SqliteConnection index, string sql)
    {
        using var command = index.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + sql;
        command.Parameters.AddWithValue("?1", 1L);
        using var reader = command.ExecuteReader();
        var plan = new StringBuilder();
        while (reader.Read())
        {
            plan.AppendLine(reader.GetString(3));
        }

        return plan.ToString();
    }

    private static string Prompt(string first) =>
        first + "  " + string.Join("  ", Enumerable.Range(1, 100).Select(i => "p" + i.ToString("000", CultureInfo.InvariantCulture)));

    private static async Task<List<Guid>> WriteLineAsync(StoreFixture f, long project, string system)
    {
        List<Guid> runs = [];
        for (var i = 1; i <= 10; i++)
        {
            runs.Add(await WriteChatAsync(f, project, system, "user " + i.ToString(CultureInfo.InvariantCulture) + " asks"));
        }

        await WaitUntilIndexedAsync(f);
        return runs;
    }

    private static async Task<Guid> WriteChatAsync(StoreFixture f, long project, string system, string user)
    {
        var id = Guid.CreateVersion7();
        var startedAt = StoreFixture.Day.AddSeconds(f.Scalar("SELECT coalesce(max(seq), 0) FROM runs"));
        await f.WriteAsync(project, [new RunWrite { Id = id, Kind = RunKind.Llm, StartedAt = startedAt, Input = new RawJson(Chat(system, user)), Output = RawJson.FromString("ok") }]);
        return id;
    }

    private static string Chat(string system, string user) =>
        JsonSerializer.Serialize(new[] { new { role = "system", content = system }, new { role = "user", content = user } });
}
