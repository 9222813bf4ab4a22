using System.Globalization;
using System.Text.Json;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using static RunLedger.Sqlite.Tests.Store.SqliteFtsIndexingTests;
using static RunLedger.Sqlite.Tests.Store.SqliteSearchIndexFileTests;

namespace RunLedger.Sqlite.Tests.Store;

/// <summary>
/// A long line many runs share (here a system prompt of 100 words) is indexed once, and search
/// gives exactly the runs whose text matches, as if every run's text were indexed whole: inside
/// the shared line, across its edges (short and long phrases), never across the gap the runs'
/// rows keep between its edges; after a rebuild from the bodies and after a run's text changes.
/// </summary>
public sealed class SqliteSharedTextTests
{
    /// <summary>p001 ... p100: the shared system prompt's words (two spaces apart: 598 bytes, a line long enough to be shared).</summary>
    private static readonly string[] Prompt = [.. Enumerable.Range(1, 100).Select(i => "p" + i.ToString("000", CultureInfo.InvariantCulture))];

    private static readonly string PromptText = string.Join("  ", Prompt);

    /// <summary>Ten runs' user messages: the prompt becomes a block at the eighth.</summary>
    private static readonly string[] Users = [.. Enumerable.Range(1, 10).Select(i => "user " + i.ToString(CultureInfo.InvariantCulture) + " asks")];

    [Fact]
    public async Task SharedLine_IsIndexedOnce_AndSearchStaysExact()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = (await f.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;
        var runs = new List<Guid>();
        foreach (var user in Users)
        {
            runs.Add(await WriteChatAsync(f, project, PromptText, user));
        }

        var other = await WriteChatAsync(f, project, "a short system prompt", "p001 p002 alone");
        await WaitUntilIndexedAsync(f);

        // The first runs met the prompt before it was shared enough and hold it whole; the
        // eighth made it a block, which the last three refer to.
        f.Scalar("SELECT count(*) FROM fts.fts_blocks").ShouldBe(1);
        f.Scalar("SELECT count(*) FROM fts.blocks_fts WHERE blocks_fts MATCH 'p050'").ShouldBe(1);
        f.Scalar("SELECT count(*) FROM fts.fts_run_blocks WHERE block = 1").ShouldBe(Users.Length - SqliteSharedText.MinSightings + 1);
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'p050'").ShouldBe(SqliteSharedText.MinSightings - 1);

        await CheckAsync(f, project, runs, other);

        // Rebuilt from the stored bodies: the same blocks and answers.
        await f.Store.DisposeAsync();
        DeleteIndex(f);
        await f.ReopenAsync();
        await WaitUntilIndexedAsync(f);
        f.Scalar("SELECT count(*) FROM fts.fts_blocks").ShouldBe(1);
        await CheckAsync(f, project, runs, other);

        // The last run's text changes: it no longer holds the prompt.
        await f.WriteAsync(project, [new RunWrite { Id = runs[^1], Input = new RawJson(Chat("a new short prompt", Users[^1])) }]);
        Guid[] rest = [.. Enumerable.Reverse(runs).Skip(1)];
        (await SearchAsync(f, project, "p050")).ShouldBe(rest);
        await WaitUntilIndexedAsync(f);
        (await SearchAsync(f, project, "p050")).ShouldBe(rest);
        (await SearchAsync(f, project, "\"p100 user 10\"")).ShouldBeEmpty();
    }

    [Fact]
    public async Task GapWord_WrittenByAUser_IsFoundByTheBodies()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = (await f.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;
        foreach (var user in Users)
        {
            await WriteChatAsync(f, project, PromptText, user);
        }

        f.Scalar("SELECT count(*) FROM fts.fts_blocks").ShouldBe(0);
        var gap = await WriteChatAsync(f, project, "short", "left \uE000 right");
        await WaitUntilIndexedAsync(f);
        f.Scalar("SELECT count(*) FROM fts.fts_blocks").ShouldBe(1);

        // The runs' rows hold the gap word between the prompt's edges; only the run that wrote it matches.
        (await SearchAsync(f, project, "\uE000")).ShouldBe([gap]);
        (await SearchAsync(f, project, "\"left \uE000 right\"")).ShouldBe([gap]);
        (await SearchAsync(f, project, "\"p008 \uE000 p093\"")).ShouldBeEmpty();

        // The tokenizer drops a combining accent, so these are the gap word too.
        (await SearchAsync(f, project, "\uE000\u0301")).ShouldBe([gap]);
        (await SearchAsync(f, project, "\"p008 \uE000\u0301 p093\"")).ShouldBeEmpty();
    }

    private static async Task CheckAsync(StoreFixture f, long project, List<Guid> runs, Guid other)
    {
        Guid[] all = [.. Enumerable.Reverse(runs)];

        // Inside the prompt: a word of its middle, a phrase of its middle, its edges.
        (await SearchAsync(f, project, "p050")).ShouldBe(all);
        (await SearchAsync(f, project, "\"p049 p050 p051\"")).ShouldBe(all);
        (await SearchAsync(f, project, "\"p001 p002\"")).ShouldBe([other, .. all]);
        (await SearchAsync(f, project, "\"p008 p009\"")).ShouldBe(all);
        (await SearchAsync(f, project, "\"p092 p093 p094\"")).ShouldBe(all);

        // Across the prompt's end into each run's own message: short phrases and a long one.
        // (Run i's message is "user i asks"; runs 1-7 hold the prompt whole, 8-10 through the block.)
        foreach (var i in new[] { 1, 9 })
        {
            (await SearchAsync(f, project, $"\"p099 p100 user {i}\"")).ShouldBe([runs[i - 1]]);
            (await SearchAsync(f, project, $"\"p092 p093 p094 p095 p096 p097 p098 p099 p100 user {i}\"")).ShouldBe([runs[i - 1]]);
            (await SearchAsync(f, project, $"\"p088 p089 p090 p091 p092 p093 p094 p095 p096 p097 p098 p099 p100 user {i} asks\"")).ShouldBe([runs[i - 1]]);

            // The whole prompt and the message after it: one phrase of 103 words.
            (await SearchAsync(f, project, "\"" + string.Join(' ', Prompt) + $" user {i} asks\"")).ShouldBe([runs[i - 1]]);
        }

        (await SearchAsync(f, project, "\"p088 p089 p090 p091 p092 p093 p094 p095 p096 p097 p098 p099 p100 user 11 asks\"")).ShouldBeEmpty();

        // Words that stand apart in the prompt, next to each other only across the rows' gap.
        (await SearchAsync(f, project, "\"p008 p093\"")).ShouldBeEmpty();
        (await SearchAsync(f, project, "\"p050 p052\"")).ShouldBeEmpty();
        (await SearchAsync(f, project, "\"p100 p001\"")).ShouldBeEmpty();
    }

    private static async Task<Guid> WriteChatAsync(StoreFixture f, long project, string system, string user)
    {
        // A second apart, so newest first is the reverse of the order written.
        var id = Guid.CreateVersion7();
        var startedAt = StoreFixture.Day.AddSeconds(f.Scalar("SELECT count(*) FROM runs"));
        await f.WriteAsync(project, [new RunWrite { Id = id, Kind = RunKind.Llm, StartedAt = startedAt, Input = new RawJson(Chat(system, user)), Output = RawJson.FromString("ok") }]);
        return id;
    }

    private static string Chat(string system, string user) =>
        JsonSerializer.Serialize(new[] { new { role = "system", content = system }, new { role = "user", content = user } });
}
