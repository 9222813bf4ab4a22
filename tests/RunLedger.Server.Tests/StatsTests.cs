using System.Globalization;
using System.Text.Json;
using static RunLedger.Server.Tests.RunBuilder;

namespace RunLedger.Server.Tests;

public sealed class StatsTests
{
    private static readonly DateTimeOffset From = new(2026, 11, 10, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset To = From.AddDays(3);
    private static readonly string[] Models = ["gpt-4o", "claude-sonnet", "llama-3"];
    private static readonly string[] Names = ["summarize", "classify", "extract"];
    private static readonly string[] Statuses = ["succeeded", "succeeded", "succeeded", "failed", "timeout", "cancelled", "running"];
    private static readonly string?[] Repositories = ["acme/web", "acme/api", null];

    private const string Window = "from=2026-11-10&to=2026-11-13";

    [Fact]
    public async Task Stats_WholeDaysByModel_AnswersFromRollupsWithExactFigures()
    {
        await using var server = await LedgerTestServer.StartAsync();
        var runs = await SeedAsync(server);
        var stats = await server.Client.GetJsonAsync($"/v1/stats?{Window}&groupBy=model");

        stats.GetProperty("source").GetString().ShouldBe("rollups");
        ShouldMatch(stats.GetProperty("total"), InWindow(runs, From, To), "total");
        ShouldMatchGroups(stats, runs, r => r.Model, "model");
    }

    [Fact]
    public async Task Stats_ByMetadataRepository_AnswersFromRowsWithExactFigures()
    {
        await using var server = await LedgerTestServer.StartAsync();
        var runs = await SeedAsync(server);
        var stats = await server.Client.GetJsonAsync($"/v1/stats?{Window}&groupBy=metadata.repository");

        stats.GetProperty("source").GetString().ShouldBe("runs");
        ShouldMatch(stats.GetProperty("total"), InWindow(runs, From, To), "total");
        ShouldMatchGroups(stats, runs, r => r.Repository, "metadata.repository");
    }

    [Theory]
    [InlineData("model")]
    [InlineData("metadata.repository")]
    public async Task Stats_DailySeries_SumToTheTotalsAndMatchEachDay(string groupBy)
    {
        await using var server = await LedgerTestServer.StartAsync();
        var runs = await SeedAsync(server);
        var stats = await server.Client.GetJsonAsync($"/v1/stats?{Window}&groupBy={groupBy}&interval=1d");
        stats.GetProperty("interval").GetString().ShouldBe("1d");
        Func<SeedRun, string?> keyOf = groupBy == "model" ? r => r.Model : r => r.Repository;

        foreach (var group in stats.GetProperty("groups").EnumerateArray())
        {
            var key = group.GetProperty("key").GetProperty(groupBy);
            var value = key.ValueKind == JsonValueKind.Null ? null : key.GetString();
            var series = group.GetProperty("series").EnumerateArray().ToList();
            series.Sum(p => p.GetProperty("figures").GetProperty("count").GetInt64()).ShouldBe(group.GetProperty("figures").GetProperty("count").GetInt64());
            series.Sum(p => p.GetProperty("figures").GetProperty("costUsd").GetDecimal()).ShouldBe(group.GetProperty("figures").GetProperty("costUsd").GetDecimal());
            series.Sum(p => p.GetProperty("figures").GetProperty("inputTokens").GetInt64()).ShouldBe(group.GetProperty("figures").GetProperty("inputTokens").GetInt64());
            foreach (var point in series)
            {
                var start = DateTimeOffset.Parse(point.GetProperty("start").GetString()!, CultureInfo.InvariantCulture);
                (start.TimeOfDay == TimeSpan.Zero).ShouldBeTrue();
                var expected = InWindow(runs, start, start.AddDays(1)).Where(r => keyOf(r) == value).ToList();
                ShouldMatch(point.GetProperty("figures"), expected, $"{value} on {start:yyyy-MM-dd}");
            }
        }

        var totalFromGroups = stats.GetProperty("groups").EnumerateArray().Sum(g => g.GetProperty("figures").GetProperty("count").GetInt64());
        totalFromGroups.ShouldBe(stats.GetProperty("total").GetProperty("count").GetInt64());
    }

    [Theory]
    [InlineData("model")]
    [InlineData("metadata.repository")]
    public async Task Stats_ComparePrevious_GivesThePreviousPeriodsFigures(string groupBy)
    {
        await using var server = await LedgerTestServer.StartAsync();
        var runs = await SeedAsync(server);
        var stats = await server.Client.GetJsonAsync($"/v1/stats?{Window}&groupBy={groupBy}&compare=previous");
        Func<SeedRun, string?> keyOf = groupBy == "model" ? r => r.Model : r => r.Repository;

        var previous = InWindow(runs, From.AddDays(-3), From);
        previous.Count.ShouldBeGreaterThan(20);
        ShouldMatch(stats.GetProperty("previousTotal"), previous, "previous total");
        foreach (var group in stats.GetProperty("groups").EnumerateArray())
        {
            var key = group.GetProperty("key").GetProperty(groupBy);
            var value = key.ValueKind == JsonValueKind.Null ? null : key.GetString();
            ShouldMatch(group.GetProperty("previous"), previous.Where(r => keyOf(r) == value).ToList(), $"previous {value}");
        }
    }

    [Fact]
    public async Task Stats_AfterRunsAreUpdated_RollupsStillEqualTheRawFigures()
    {
        await using var server = await LedgerTestServer.StartAsync();
        var runs = await SeedAsync(server);
        var random = new Random(7);
        var updates = new List<string>();
        for (var i = 0; i < runs.Count; i++)
        {
            var run = runs[i];
            if (run.Status == "running" || random.Next(4) == 0)
            {
                // running -> failed with a duration; or a finished run gets a new status and duration.
                var status = run.Status == "running" ? "failed" : Statuses[random.Next(Statuses.Length - 1)];
                var durationMs = run.Status == "running" ? 50 + random.Next(2000) : Math.Max(1, (run.DurationMs ?? 100) * (random.Next(2) == 0 ? 3 : 1) / (random.Next(2) == 0 ? 1 : 4));
                runs[i] = run with { Status = status, DurationMs = durationMs };
                updates.Add(Run(run.Id, run.StartedAt, $"\"status\":\"{status}\",\"endedAt\":\"{Time(run.StartedAt.AddMilliseconds(durationMs))}\""));
            }
        }

        updates.Count.ShouldBeGreaterThan(50);
        foreach (var chunk in updates.Chunk(100))
        {
            await server.Client.IngestOkAsync(Body(chunk));
        }

        var fromRollups = await server.Client.GetJsonAsync($"/v1/stats?{Window}&groupBy=model,status");
        fromRollups.GetProperty("source").GetString().ShouldBe("rollups");
        ShouldMatch(fromRollups.GetProperty("total"), InWindow(runs, From, To), "total after updates", maxIsBound: true);
        foreach (var group in fromRollups.GetProperty("groups").EnumerateArray())
        {
            var model = group.GetProperty("key").GetProperty("model").GetString();
            var status = group.GetProperty("key").GetProperty("status").GetString();
            var expected = InWindow(runs, From, To).Where(r => r.Model == model && r.Status == status).ToList();
            ShouldMatch(group.GetProperty("figures"), expected, $"{model}/{status} after updates", maxIsBound: true);
        }

        InWindow(runs, From, To).ShouldNotContain(r => r.Status == "running");
        var fromRows = await server.Client.GetJsonAsync($"/v1/stats?{Window}&groupBy=metadata.repository");
        ShouldMatch(fromRows.GetProperty("total"), InWindow(runs, From, To), "rows after updates");
    }

    private sealed record SeedRun(string Id, DateTimeOffset StartedAt, string Model, string Name, string Status, string? Repository, long? DurationMs, long InputTokens, long OutputTokens, decimal Cost);

    /// <summary>About 400 runs over six days (three in the window, three before), with skewed durations.</summary>
    private static async Task<List<SeedRun>> SeedAsync(LedgerTestServer server)
    {
        var random = new Random(42);
        var runs = new List<SeedRun>();
        for (var i = 0; i < 420; i++)
        {
            var started = From.AddDays(-3).AddSeconds(random.Next(6 * 86_400)).AddMilliseconds(random.Next(1000));
            if (i % 50 == 0)
            {
                started = From.AddDays(i % 3);
            }

            var status = Statuses[random.Next(Statuses.Length)];
            long? duration = status == "running" ? null : random.Next(10) switch
            {
                < 7 => 80 + random.Next(400),
                < 9 => 1000 + random.Next(4000),
                _ => 20_000 + random.Next(100_000),
            };
            var cost = random.Next(3) == 0 ? 0m : Math.Round((decimal)random.NextDouble() / 100m, 9);
            runs.Add(new SeedRun(NewId(), started, Models[random.Next(Models.Length)], Names[random.Next(Names.Length)], status,
                Repositories[random.Next(Repositories.Length)], duration, random.Next(5000), random.Next(1500), cost));
        }

        foreach (var chunk in runs.Chunk(150))
        {
            await server.Client.IngestOkAsync(Body(chunk.Select(r => Run(r.Id, r.StartedAt,
                $"\"kind\":\"llm\",\"model\":\"{r.Model}\",\"name\":\"{r.Name}\",\"status\":\"{r.Status}\""
                + (r.DurationMs is { } d ? $",\"endedAt\":\"{Time(r.StartedAt.AddMilliseconds(d))}\"" : string.Empty)
                + $",\"usage\":{{\"inputTokens\":{r.InputTokens},\"outputTokens\":{r.OutputTokens}}},\"costUsd\":{r.Cost.ToString(CultureInfo.InvariantCulture)}"
                + (r.Repository is null ? string.Empty : $",\"metadata\":{{\"repository\":\"{r.Repository}\",\"team\":\"t\"}}")))));
        }

        return runs;
    }

    private static List<SeedRun> InWindow(List<SeedRun> runs, DateTimeOffset from, DateTimeOffset to) =>
        runs.Where(r => r.StartedAt >= from && r.StartedAt < to).ToList();

    private static void ShouldMatchGroups(JsonElement stats, List<SeedRun> runs, Func<SeedRun, string?> keyOf, string dimension)
    {
        var window = InWindow(runs, From, To);
        var groups = stats.GetProperty("groups").EnumerateArray().ToList();
        var expectedKeys = window.Select(keyOf).Distinct().ToList();
        groups.Count.ShouldBe(expectedKeys.Count);
        foreach (var group in groups)
        {
            var key = group.GetProperty("key").GetProperty(dimension);
            var value = key.ValueKind == JsonValueKind.Null ? null : key.GetString();
            expectedKeys.ShouldContain(value);
            ShouldMatch(group.GetProperty("figures"), window.Where(r => keyOf(r) == value).ToList(), $"{dimension}={value}");
        }
    }

    /// <summary>Counts, tokens and cost exactly; percentiles (nearest rank) within 2%.</summary>
    private static void ShouldMatch(JsonElement figures, List<SeedRun> expected, string what, bool maxIsBound = false)
    {
        figures.GetProperty("count").GetInt64().ShouldBe(expected.Count, what);
        figures.GetProperty("errors").GetInt64().ShouldBe(expected.Count(r => r.Status is "failed" or "timeout"), what);
        figures.GetProperty("inputTokens").GetInt64().ShouldBe(expected.Sum(r => r.InputTokens), what);
        figures.GetProperty("outputTokens").GetInt64().ShouldBe(expected.Sum(r => r.OutputTokens), what);
        figures.GetProperty("costUsd").GetDecimal().ShouldBe(expected.Sum(r => r.Cost), what);
        var durations = expected.Where(r => r.DurationMs is not null).Select(r => (double)r.DurationMs!.Value).Order().ToList();
        if (durations.Count == 0)
        {
            figures.TryGetProperty("p50Ms", out _).ShouldBeFalse(what);
            return;
        }

        figures.GetProperty("avgMs").GetDouble().ShouldBe(durations.Average(), 0.001, what);
        var max = figures.GetProperty("maxMs").GetDouble();
        if (maxIsBound)
        {
            max.ShouldBeGreaterThanOrEqualTo(durations[^1], what);
        }
        else
        {
            max.ShouldBe(durations[^1], what);
        }

        foreach (var (name, q) in new[] { ("p50Ms", 0.50), ("p95Ms", 0.95), ("p99Ms", 0.99) })
        {
            var exact = durations[Math.Clamp((int)Math.Ceiling(q * durations.Count), 1, durations.Count) - 1];
            figures.GetProperty(name).GetDouble().ShouldBe(exact, exact * 0.02, $"{what} {name}");
        }
    }
}
