using System.Text.Json;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Query;
using RunLedger.Core.Storage;
using static RunLedger.Sqlite.Tests.Store.SqliteFtsIndexingTests;

namespace RunLedger.Sqlite.Tests.Store;

/// <summary>
/// A search's pages are first looked for among the newest runs by sequence number, in windows
/// that grow until the page stands (<c>SqliteReader.SearchNewestAsync</c>). Every page must be
/// exactly the page the whole index gives, also when runs arrive out of start-time order, share
/// a start time, changed since they were indexed, or are not indexed yet.
/// </summary>
public sealed class SqliteSearchWindowTests
{
    private static readonly string[] Filters =
    [
        "w1", "w7", "\"w2 w3\"", "w1 OR model:m1", "-w4", "w5 -w6", "w2 model:m2", "(w1 OR w8) w3", "w0 OR status:failed", "nothing-holds-this",
    ];

    [Theory]
    [InlineData(1, true)]
    [InlineData(2, true)]
    [InlineData(3, false)]
    public async Task EveryPage_IsThePageOfTheWholeIndex(int seed, bool indexed)
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = (await f.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;
        var random = new Random(seed);
        string Words() => string.Join(' ', Enumerable.Range(0, 1 + random.Next(4)).Select(_ => "w" + random.Next(10)));

        var ids = new List<Guid>();
        for (var i = 0; i < 400; i++)
        {
            // Most runs start in the order they arrive; some arrive late with an old start time,
            // a few start far in the future, and some share a start time with the run before.
            var second = random.Next(100) switch
            {
                < 15 => random.Next(Math.Max(1, i)),
                < 18 => 100_000 + random.Next(50),
                < 25 => Math.Max(0, i - 1),
                _ => i,
            };
            var id = Guid.CreateVersion7();
            ids.Add(id);
            await f.WriteAsync(project, [new RunWrite
            {
                Id = id,
                Kind = RunKind.Llm,
                StartedAt = StoreFixture.Day.AddSeconds(second),
                Model = "m" + random.Next(3),
                Status = random.Next(10) == 0 ? RunStatus.Failed : RunStatus.Succeeded,
                Input = new RawJson(JsonSerializer.Serialize(Words())),
                Output = new RawJson(JsonSerializer.Serialize(Words())),
            }]);
        }

        if (indexed)
        {
            await WaitUntilIndexedAsync(f);
        }

        // Some runs get new text after they were indexed (or before): the index must not answer for them.
        for (var i = 0; i < 30; i++)
        {
            await f.WriteAsync(project, [new RunWrite { Id = ids[random.Next(ids.Count)], Input = new RawJson(JsonSerializer.Serialize(Words())) }]);
        }

        var newest = f.Scalar("SELECT max(seq) FROM runs");
        foreach (var filter in Filters)
        {
            f.Store.Options.SearchWindowRuns = long.MaxValue;
            var expected = await AllPagesAsync(f, project, filter);
            f.Store.Options.SearchWindowRuns = 3;
            var windowed = await AllPagesAsync(f, project, filter);
            windowed.ShouldBe(expected, $"filter '{filter}' over {newest} runs");
        }
    }

    [Fact]
    public async Task ARunStartingNewestButStoredFirst_IsOnTheFirstPage()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = (await f.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;
        var first = Guid.CreateVersion7();
        await f.WriteAsync(project, [new RunWrite { Id = first, Kind = RunKind.Llm, StartedAt = StoreFixture.Day.AddDays(1), Input = RawJson.FromString("needle") }]);
        var later = new List<Guid>();
        for (var i = 0; i < 100; i++)
        {
            var id = Guid.CreateVersion7();
            later.Add(id);
            await f.WriteAsync(project, [new RunWrite { Id = id, Kind = RunKind.Llm, StartedAt = StoreFixture.Day.AddSeconds(i), Input = RawJson.FromString("needle") }]);
        }

        await WaitUntilIndexedAsync(f);
        f.Store.Options.SearchWindowRuns = 4;
        var page = await f.Store.Reader.QueryRunsAsync(project, new RunQuery(FilterParser.Parse("needle", FilterTarget.Runs), 3, null), default);
        page.Items.Select(r => r.Id).ShouldBe([first, later[99], later[98]]);
    }

    private static async Task<List<string>> AllPagesAsync(StoreFixture f, long project, string filter)
    {
        var pages = new List<string>();
        string? cursor = null;
        do
        {
            var page = await f.Store.Reader.QueryRunsAsync(project, new RunQuery(FilterParser.Parse(filter, FilterTarget.Runs), 7, cursor), default);
            pages.Add(string.Join(',', page.Items.Select(r => r.Id)) + " next " + page.NextCursor);
            cursor = page.NextCursor;
        }
        while (cursor is not null && pages.Count < 200);

        return pages;
    }
}
