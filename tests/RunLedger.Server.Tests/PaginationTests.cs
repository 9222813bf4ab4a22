using System.Globalization;
using System.Net;
using System.Text.Json;
using static RunLedger.Server.Tests.RunBuilder;

namespace RunLedger.Server.Tests;

public sealed class PaginationTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Runs_PagedWithCursor_ReturnEveryRunOnceInKeyOrder()
    {
        await using var server = await LedgerTestServer.StartAsync();
        var ids = await IngestManyAsync(server, 3100);

        var seen = await PageAllAsync(server.Client, afterEachPage: null);

        seen.Count.ShouldBe(ids.Count);
        seen.Select(r => r.Id).Distinct().Count().ShouldBe(ids.Count);
        seen.Select(r => r.Id).ToHashSet().SetEquals(ids).ShouldBeTrue();
        ShouldBeStrictlyDescending(seen);
    }

    [Fact]
    public async Task Runs_PagedWhileNewRunsArrive_NoDuplicatesAndNothingSkipped()
    {
        await using var server = await LedgerTestServer.StartAsync();
        var ids = await IngestManyAsync(server, 3000);
        var newer = new List<string>();
        var older = new List<string>();
        var page = 0;

        var seen = await PageAllAsync(server.Client, async () =>
        {
            // Between pages: runs newer than the first page (already passed) and runs older
            // than everything so far (not reached yet), five sharing one startedAt.
            page++;
            var (newBody, newIds) = Batch(20, T0.AddDays(5).AddSeconds(page));
            var oldTime = T0.AddDays(-1).AddSeconds(-page);
            var oldIds = Enumerable.Range(0, 5).Select(_ => NewId()).ToList();
            await server.Client.IngestOkAsync(newBody);
            await server.Client.IngestOkAsync(Body(oldIds.Select(id => Run(id, oldTime))));
            newer.AddRange(newIds);
            older.AddRange(oldIds);
        });

        var seenIds = seen.Select(r => r.Id).ToList();
        seenIds.Distinct().Count().ShouldBe(seenIds.Count, "a run appeared twice");
        ids.ShouldAllBe(id => seenIds.Contains(id));
        seenIds.ShouldNotContain(id => newer.Contains(id));
        older.ShouldNotBeEmpty();
        older.ShouldAllBe(id => seenIds.Contains(id));
        ShouldBeStrictlyDescending(seen);
        (await server.Client.AllRunsAsync()).Count.ShouldBe(ids.Count + newer.Count + older.Count);
    }

    [Theory]
    [InlineData("cursor=not-a-cursor!!", "cursor")]
    [InlineData("cursor=AA", "cursor")]
    [InlineData("cursor=AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "cursor")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=5000", "limit")]
    [InlineData("limit=abc", "limit")]
    [InlineData("limit=-1", "limit")]
    public async Task Runs_BadCursorOrLimit_Answers400NamingTheArgument(string query, string field)
    {
        await using var server = await LedgerTestServer.StartAsync();
        await server.Client.IngestOkAsync(Batch(3, T0).Body);
        using var response = await server.Client.GetAsync("/v1/runs?" + query);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        problem.GetProperty("field").GetString().ShouldBe(field);
    }

    [Fact]
    public async Task Session_PagedWithCursor_ReturnsEveryTopLevelRunOnceNewestFirst()
    {
        await using var server = await LedgerTestServer.StartAsync();
        var (body, ids) = Batch(120, T0, "\"sessionId\":\"night\"");
        await server.Client.IngestOkAsync(body);

        var first = await server.Client.GetJsonAsync("/v1/sessions/night");
        first.GetProperty("runs").GetArrayLength().ShouldBe(50, "the default page");
        first.GetProperty("session").GetProperty("runCount").GetInt64().ShouldBe(120);
        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await server.Client.GetJsonAsync("/v1/sessions/night?limit=40" + (cursor is null ? string.Empty : "&cursor=" + Uri.EscapeDataString(cursor)));
            page.GetProperty("runsByStatus")[0].GetProperty("count").GetInt64().ShouldBe(120);
            seen.AddRange(page.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("id").GetString()!));
            cursor = page.TryGetProperty("nextCursor", out var next) ? next.GetString() : null;
        }
        while (cursor is not null);

        seen.ShouldBe(Enumerable.Reverse(ids).ToList(), "newest first, each once");
    }

    [Theory]
    [InlineData("cursor=not-a-cursor!!", "cursor")]
    [InlineData("cursor=AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "cursor")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=5000", "limit")]
    public async Task Session_BadCursorOrLimit_Answers400NamingTheArgument(string query, string field)
    {
        await using var server = await LedgerTestServer.StartAsync();
        await server.Client.IngestOkAsync(Batch(3, T0, "\"sessionId\":\"night\"").Body);
        using var response = await server.Client.GetAsync("/v1/sessions/night?" + query);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        problem.GetProperty("field").GetString().ShouldBe(field);
    }

    private static async Task<HashSet<string>> IngestManyAsync(LedgerTestServer server, int count)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var start = 0; start < count; start += 1000)
        {
            var runs = new List<string>();
            for (var i = start; i < Math.Min(count, start + 1000); i++)
            {
                // Groups of four share one startedAt, so the id decides their order.
                var id = NewId();
                ids.Add(id);
                runs.Add(Run(id, T0.AddSeconds(i / 4), "\"status\":\"succeeded\""));
            }

            await server.Client.IngestOkAsync(Body(runs));
        }

        return ids;
    }

    private static async Task<List<(string Id, DateTimeOffset StartedAt)>> PageAllAsync(HttpClient client, Func<Task>? afterEachPage)
    {
        var seen = new List<(string Id, DateTimeOffset StartedAt)>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await client.GetJsonAsync("/v1/runs?limit=100" + (cursor is null ? string.Empty : "&cursor=" + Uri.EscapeDataString(cursor)));
            var items = page.GetProperty("items");
            items.GetArrayLength().ShouldBeLessThanOrEqualTo(100);
            foreach (var run in items.EnumerateArray())
            {
                seen.Add((run.GetProperty("id").GetString()!, DateTimeOffset.Parse(run.GetProperty("startedAt").GetString()!, CultureInfo.InvariantCulture)));
            }

            cursor = page.TryGetProperty("nextCursor", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
            if (cursor is not null)
            {
                items.GetArrayLength().ShouldBe(100);
                if (afterEachPage is not null)
                {
                    await afterEachPage();
                }
            }

            (++pages).ShouldBeLessThan(1000, "pagination does not end");
        }
        while (cursor is not null);
        return seen;
    }

    private static void ShouldBeStrictlyDescending(List<(string Id, DateTimeOffset StartedAt)> runs)
    {
        for (var i = 1; i < runs.Count; i++)
        {
            var (prevId, prevTime) = runs[i - 1];
            var (id, time) = runs[i];
            var ordered = time < prevTime || (time == prevTime && string.CompareOrdinal(id, prevId) < 0);
            ordered.ShouldBeTrue($"item {i} ({time:O} {id}) is not after item {i - 1} ({prevTime:O} {prevId})");
        }
    }
}
