using System.Globalization;
using System.Text.Json;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using static RunLedger.Sqlite.Tests.Store.SqliteFtsIndexingTests;

namespace RunLedger.Sqlite.Tests.Store;

/// <summary>
/// A shared line's block (index layout 3) lives as long as a run lists it: when the runs holding it
/// are deleted or no longer hold it, the block leaves <c>blocks_fts</c> and <c>fts_blocks</c>; a
/// line that comes back is counted afresh; a shared line that keeps changing while old runs are
/// deleted keeps the number of blocks bounded; and search stays exact all the while.
/// </summary>
public sealed class SqliteSharedTextPruneTests
{
    /// <summary>Runs written per shared line: it becomes a block at the eighth, which the last three are listed with.</summary>
    private const int RunsPerLine = 10;

    [Fact]
    public async Task AllRunsOfABlockDeleted_BlockIsRemoved()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = (await f.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;
        var runs = await WriteLineAsync(f, project, Prompt("today"));
        await WaitUntilIndexedAsync(f);
        Blocks(f).ShouldBe(1);

        // The runs listed with the block (8-10) go, as a retention sweep deletes them; runs 1-7
        // hold the line in their own rows.
        await DeleteRunsAsync(f, runs[(SqliteSharedText.MinSightings - 1)..]);
        await WaitUntilIndexedAsync(f);
        Blocks(f).ShouldBe(0);
        f.Scalar("SELECT count(*) FROM fts.blocks_fts WHERE blocks_fts MATCH 'today'").ShouldBe(0);
        f.Scalar("SELECT count(*) FROM fts.fts_run_blocks").ShouldBe(0);
        Guid[] rest = [.. Enumerable.Reverse(runs[..(SqliteSharedText.MinSightings - 1)])];
        (await SearchAsync(f, project, "today")).ShouldBe(rest);
        (await SearchAsync(f, project, "\"p049 p050 p051\"")).ShouldBe(rest);
    }

    [Fact]
    public async Task LastRunOfABlockChangesItsText_BlockIsRemoved()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = (await f.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;
        var runs = await WriteLineAsync(f, project, Prompt("today"));
        await DeleteRunsAsync(f, runs[(SqliteSharedText.MinSightings - 1)..^1]);
        await WaitUntilIndexedAsync(f);
        Blocks(f).ShouldBe(1);

        // The last run listed with it gets a new prompt (re-indexed from its new bodies).
        await f.WriteAsync(project, [new RunWrite { Id = runs[^1], Input = new RawJson(Chat("a new short prompt", "user")) }]);
        await WaitUntilIndexedAsync(f);
        Blocks(f).ShouldBe(0);
        (await SearchAsync(f, project, "today")).ShouldBe([.. Enumerable.Reverse(runs[..(SqliteSharedText.MinSightings - 1)])]);
        (await SearchAsync(f, project, "\"a new short prompt\"")).ShouldBe([runs[^1]]);
    }

    [Fact]
    public async Task LastRunOfABlockReindexedStillHoldingTheLine_BlockStays()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = (await f.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;
        var runs = await WriteLineAsync(f, project, Prompt("today"));
        await DeleteRunsAsync(f, runs[(SqliteSharedText.MinSightings - 1)..^1]);
        await WaitUntilIndexedAsync(f);

        // A new output: the run's listing goes and comes back in the same index transaction,
        // and the block, listed again, stays (the check for listings comes after the re-index).
        await f.WriteAsync(project, [new RunWrite { Id = runs[^1], Output = RawJson.FromString("a new answer") }]);
        await WaitUntilIndexedAsync(f);
        Blocks(f).ShouldBe(1);
        f.Scalar("SELECT count(*) FROM fts.fts_run_blocks").ShouldBe(1);
        (await SearchAsync(f, project, "\"p049 p050 p051\"")).ShouldBe([runs[^1], .. Enumerable.Reverse(runs[..(SqliteSharedText.MinSightings - 1)])]);
        (await SearchAsync(f, project, "\"new answer\"")).ShouldBe([runs[^1]]);
    }

    [Fact]
    public async Task BlockStillListedByOneRun_Stays_AndSearchFindsThatRun()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = (await f.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;
        var runs = await WriteLineAsync(f, project, Prompt("today"));

        // All but the last run go, those listed with the block among them.
        await DeleteRunsAsync(f, runs[..^1]);
        await WaitUntilIndexedAsync(f);
        Blocks(f).ShouldBe(1);
        f.Scalar("SELECT count(*) FROM fts.fts_run_blocks").ShouldBe(1);
        (await SearchAsync(f, project, "today")).ShouldBe([runs[^1]]);
        (await SearchAsync(f, project, "\"p049 p050 p051\"")).ShouldBe([runs[^1]]);
        (await SearchAsync(f, project, "\"p100 user 10\"")).ShouldBe([runs[^1]]);
    }

    [Fact]
    public async Task LineSeenAgainAfterItsBlockWasRemoved_BecomesABlockAgainAtTheEighthSighting_SearchExactThroughout()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = (await f.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;
        var line = Prompt("today");
        var first = await WriteLineAsync(f, project, line);
        var other = await WriteChatAsync(f, project, "a short prompt", "newest run, kept");
        await DeleteRunsAsync(f, first);
        await WaitUntilIndexedAsync(f);
        Blocks(f).ShouldBe(0);
        (await SearchAsync(f, project, "today")).ShouldBeEmpty();

        // Counted from one again: seven sightings hold it in their own rows, the eighth makes the block.
        List<Guid> again = [];
        for (var i = 1; i <= RunsPerLine; i++)
        {
            again.Add(await WriteChatAsync(f, project, line, "user " + i.ToString(CultureInfo.InvariantCulture) + " asks"));
            await WaitUntilIndexedAsync(f);
            Blocks(f).ShouldBe(i < SqliteSharedText.MinSightings ? 0 : 1);
            f.Scalar("SELECT count(*) FROM fts.fts_run_blocks").ShouldBe(Math.Max(0, i - SqliteSharedText.MinSightings + 1));
            f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'p050'").ShouldBe(Math.Min(i, SqliteSharedText.MinSightings - 1));

            Guid[] all = [.. Enumerable.Reverse(again)];
            (await SearchAsync(f, project, "today")).ShouldBe(all);
            (await SearchAsync(f, project, "\"p049 p050 p051\"")).ShouldBe(all);
            (await SearchAsync(f, project, $"\"p099 p100 user {i} asks\"")).ShouldBe([again[^1]]);
            (await SearchAsync(f, project, "\"p008 p093\"")).ShouldBeEmpty();
        }

        // One block: the first round's is not in blocks_fts beside it.
        f.Scalar("SELECT count(*) FROM fts.blocks_fts WHERE blocks_fts MATCH 'p050'").ShouldBe(1);
        (await SearchAsync(f, project, "newest")).ShouldBe([other]);
    }

    [Fact]
    public async Task SharedLineThatKeepsChanging_OldRunsDeleted_BlocksStayBounded()
    {
        // A system prompt that embeds the day: each day's line becomes a block; retention keeps
        // two days of runs.
        const int days = 12;
        const int kept = 2;
        await using var f = await StoreFixture.OpenAsync();
        var project = (await f.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;
        var byDay = new List<List<Guid>>();
        for (var day = 0; day < days; day++)
        {
            byDay.Add(await WriteLineAsync(f, project, Prompt(Day(day))));
            if (day >= kept)
            {
                await DeleteRunsAsync(f, byDay[day - kept]);
            }

            await WaitUntilIndexedAsync(f);
            Blocks(f).ShouldBe(Math.Min(day + 1, kept));
            f.Scalar("SELECT count(*) FROM fts.blocks_fts WHERE blocks_fts MATCH 'p050'").ShouldBe(Math.Min(day + 1, kept));
            for (var d = Math.Max(0, day - kept - 1); d <= day; d++)
            {
                (await SearchAsync(f, project, Day(d))).ShouldBe(d > day - kept ? [.. Enumerable.Reverse(byDay[d])] : []);
            }
        }

        f.Scalar("SELECT count(*) FROM fts.fts_run_blocks").ShouldBe(kept * (RunsPerLine - SqliteSharedText.MinSightings + 1));
        (await SearchAsync(f, project, "p050")).Length.ShouldBe(kept * RunsPerLine);
    }

    [Fact]
    public async Task IndexFileOfAnEarlierVersion_WithBlocks_IsRebuiltWithBlocksThatCanBeRemoved()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = (await f.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;
        var runs = await WriteLineAsync(f, project, Prompt("today"));
        await f.Store.DisposeAsync();

        // Its blocks_fts could not lose a row: emptied at the start and rebuilt from the bodies.
        MakeEarlierVersion(f, Prompt("today"));
        await f.ReopenAsync();
        await WaitUntilIndexedAsync(f);
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'sentinel'").ShouldBe(0);
        f.Scalar("SELECT sql LIKE '%contentless_delete=1%' FROM fts.sqlite_master WHERE name = 'blocks_fts'").ShouldBe(1);
        Blocks(f).ShouldBe(1);
        (await SearchAsync(f, project, "\"p049 p050 p051\"")).ShouldBe([.. Enumerable.Reverse(runs)]);

        await DeleteRunsAsync(f, runs[(SqliteSharedText.MinSightings - 1)..]);
        await WaitUntilIndexedAsync(f);
        Blocks(f).ShouldBe(0);
        (await SearchAsync(f, project, "\"p049 p050 p051\"")).ShouldBe([.. Enumerable.Reverse(runs[..(SqliteSharedText.MinSightings - 1)])]);
    }

    [Fact]
    public async Task IndexFileOfAnEarlierVersion_WithoutBlocks_KeepsItsIndex()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = (await f.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;
        var run = await WriteChatAsync(f, project, "a short prompt", "user asks");
        await WaitUntilIndexedAsync(f);
        await f.Store.DisposeAsync();

        // Only its (empty) blocks_fts is made anew: no rebuild.
        MakeEarlierVersion(f, block: null);
        await f.ReopenAsync();
        await WaitUntilIndexedAsync(f);
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'sentinel'").ShouldBe(1);
        f.Scalar("SELECT sql LIKE '%contentless_delete=1%' FROM fts.sqlite_master WHERE name = 'blocks_fts'").ShouldBe(1);
        (await SearchAsync(f, project, "\"short prompt\"")).ShouldBe([run]);
        await WriteLineAsync(f, project, Prompt("today"));
        Blocks(f).ShouldBe(1);
    }

    /// <summary>
    /// Gives the closed ledger's index file the <c>blocks_fts</c> versions before blocks were
    /// pruned made (without <c>contentless_delete</c>), holding <paramref name="block"/> as block 1
    /// when there is one, and a word no run has (<c>sentinel</c>) in <c>runs_fts</c>, gone when the
    /// file is rebuilt.
    /// </summary>
    private static void MakeEarlierVersion(StoreFixture f, string? block)
    {
        Execute(f,
            "DROP TABLE fts.blocks_fts; CREATE VIRTUAL TABLE fts.blocks_fts USING fts5(body, content='', tokenize='unicode61 remove_diacritics 2'); " +
            "INSERT INTO fts.runs_fts (rowid, text) VALUES (1000000, 'sentinel');");
        if (block is not null)
        {
            Execute(f, $"INSERT INTO fts.blocks_fts (rowid, body) VALUES (1, '{block}');");
        }

        f.Scalar("SELECT count(*) FROM fts.fts_blocks").ShouldBe(block is null ? 0 : 1);
    }

    private static string Day(int day) => "day" + day.ToString("00", CultureInfo.InvariantCulture);

    /// <summary>A system prompt of 101 words that opens with <paramref name="first"/> (a line long enough to be shared).</summary>
    private static string Prompt(string first) =>
        first + "  " + string.Join("  ", Enumerable.Range(1, 100).Select(i => "p" + i.ToString("000", CultureInfo.InvariantCulture)));

    private static long Blocks(StoreFixture f) => f.Scalar("SELECT count(*) FROM fts.fts_blocks");

    /// <summary>Ten runs with <paramref name="system"/> as their system prompt and "user i asks" as their message, indexed.</summary>
    private static async Task<List<Guid>> WriteLineAsync(StoreFixture f, long project, string system)
    {
        List<Guid> runs = [];
        for (var i = 1; i <= RunsPerLine; i++)
        {
            runs.Add(await WriteChatAsync(f, project, system, "user " + i.ToString(CultureInfo.InvariantCulture) + " asks"));
        }

        // Indexed before any is deleted: the line is a block now.
        await WaitUntilIndexedAsync(f);
        Blocks(f).ShouldBeGreaterThan(0);
        return runs;
    }

    /// <summary>
    /// Deletes runs as a retention sweep must: the rows go and each is listed in
    /// <c>fts_pending</c> in the same commit, so search stops matching them at once and the
    /// indexer removes their text. Never the newest run when more are written after: a run's seq
    /// is its rowid, which SQLite would give again.
    /// </summary>
    private static Task DeleteRunsAsync(StoreFixture f, IEnumerable<Guid> ids) => f.Store.WithWriterAsync(async connection =>
    {
        using var transaction = connection.BeginTransaction(deferred: false);
        foreach (var id in ids)
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText =
                "INSERT INTO fts_pending (seq, gen) SELECT seq, 1 FROM runs WHERE id = @id ON CONFLICT (seq) DO UPDATE SET gen = gen + 1; " +
                "DELETE FROM runs WHERE id = @id;";
            command.Parameters.AddWithValue("@id", id.ToByteArray(bigEndian: true));
            (await command.ExecuteNonQueryAsync()).ShouldBe(2);
        }

        await transaction.CommitAsync();
        return 0;
    });

    private static async Task<Guid> WriteChatAsync(StoreFixture f, long project, string system, string user)
    {
        // A second apart, so newest first is the reverse of the order written.
        var id = Guid.CreateVersion7();
        var startedAt = StoreFixture.Day.AddSeconds(f.Scalar("SELECT coalesce(max(seq), 0) FROM runs"));
        await f.WriteAsync(project, [new RunWrite { Id = id, Kind = RunKind.Llm, StartedAt = startedAt, Input = new RawJson(Chat(system, user)), Output = RawJson.FromString("ok") }]);
        return id;
    }

    private static string Chat(string system, string user) =>
        JsonSerializer.Serialize(new[] { new { role = "system", content = system }, new { role = "user", content = user } });
}
