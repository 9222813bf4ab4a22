using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using RunLedger.Postgres.Testing;

namespace RunLedger.Cli.Tests;

/// <summary>
/// PostgreSQL stopped (immediate shutdown, as a crash) while clients ingest into a real
/// <c>runledger serve</c>: every answer is 200 (committed) or 503 with Retry-After, never a 500;
/// reads answer 503 with a problem a person can act on; <c>/healthz</c> stays up while
/// <c>/readyz</c> says the store is unavailable; once the database is back the server recovers by
/// itself, and every acknowledged run is stored.
/// </summary>
public sealed class OutageTests
{
    private const int Writers = 4;
    private const int RunsPerBatch = 20;

    [Fact]
    public async Task Serve_DatabaseStoppedMidIngest_Answers503AndRecoversWithoutLosingAcknowledgedRuns()
    {
        var cancel = TestContext.Current.CancellationToken;
        await using var postgres = await PostgresServer.StartAsync(cancel);
        var store = postgres.ConnectionString(await postgres.CreateDatabaseAsync(cancel));
        await using var server = await ServerProcess.StartAsync(IngestBodies.NewDataDirectory(), ServerProcess.FreePort(), "store=" + store);
        using var client = IngestBodies.Client(server);

        var log = new IngestLog();
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(() => WriteAsync(client, w, log, stop.Token), cancel)).ToArray();

        await WaitForAsync(() => log.Acknowledged.Count >= 400, TimeSpan.FromSeconds(60), "no ingest was acknowledged before the outage");
        await postgres.StopAsync(immediate: true, cancel);
        var acknowledgedBeforeOutage = log.Acknowledged.Count;

        await WaitForAsync(() => log.Unavailable >= 3 * Writers, TimeSpan.FromSeconds(30), "ingest did not answer 503 while the database was down");

        // While the database is down: the process is alive, not ready, and reads say why.
        using (var health = await client.GetAsync("/healthz", cancel))
        {
            health.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using (var ready = await client.GetAsync("/readyz", cancel))
        {
            ready.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
            ready.Headers.RetryAfter.ShouldNotBeNull();
            (await ProblemDetailAsync(ready)).ShouldContain("does not answer");
        }

        foreach (var path in new[] { "/v1/runs?limit=5", "/v1/stats?groupBy=model", "/v1/stream" })
        {
            using var read = await client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, cancel);
            read.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable, path);
            read.Headers.RetryAfter.ShouldNotBeNull(path);
            read.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json", path);
            var detail = await ProblemDetailAsync(read);
            detail.ShouldContain("reconnects by itself", Case.Sensitive, path);
            detail.ShouldNotContain("Password", Case.Insensitive, path);
        }

        // Longer than the key cache (5 s), so key look-ups meet the outage too.
        await Task.Delay(TimeSpan.FromSeconds(6), cancel);
        var unavailableDuringOutage = log.Unavailable;
        using (var read = await client.GetAsync("/v1/runs?limit=5", cancel))
        {
            read.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable, "a read after the key cache expired");
        }

        await postgres.StartAgainAsync(cancel);
        var acknowledgedBeforeRecovery = log.Acknowledged.Count;
        await WaitForAsync(() => log.Acknowledged.Count >= acknowledgedBeforeRecovery + 400, TimeSpan.FromSeconds(60), "ingest did not recover after the database came back");
        await stop.CancelAsync();
        await Task.WhenAll(writers);

        log.Unexpected.ShouldBeEmpty("every ingest answer must be 200 or 503 with Retry-After");
        unavailableDuringOutage.ShouldBeGreaterThan(0);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"acknowledged {acknowledgedBeforeOutage} runs before the outage, {log.Acknowledged.Count} in all; {log.Unavailable} answers were 503");

        using (var ready = await client.GetAsync("/readyz", cancel))
        {
            ready.StatusCode.ShouldBe(HttpStatusCode.OK, "the server should be ready again without a restart");
        }

        // No acknowledged run is lost: page through every run the writers' names select.
        var stored = new HashSet<Guid>();
        string? cursor = null;
        do
        {
            var url = "/v1/runs?q=" + Uri.EscapeDataString("name:outage-*") + "&limit=1000" + (cursor is null ? string.Empty : "&cursor=" + Uri.EscapeDataString(cursor));
            using var page = await client.GetAsync(url, cancel);
            page.StatusCode.ShouldBe(HttpStatusCode.OK);
            using var document = JsonDocument.Parse(await page.Content.ReadAsStringAsync(cancel));
            foreach (var run in document.RootElement.GetProperty("items").EnumerateArray())
            {
                stored.Add(run.GetProperty("id").GetGuid()).ShouldBeTrue("a run is listed twice");
            }

            cursor = document.RootElement.TryGetProperty("nextCursor", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
        }
        while (cursor is not null);

        var missing = log.Acknowledged.Keys.Where(id => !stored.Contains(id)).ToList();
        missing.ShouldBeEmpty($"{missing.Count} of {log.Acknowledged.Count} acknowledged runs are missing");
    }

    [Fact]
    public async Task Serve_DatabaseDownAtStart_ExitsWithCode3AndSaysWhatToCheck()
    {
        // Nothing listens on a port just handed out and released.
        var store = $"Host=127.0.0.1;Port={ServerProcess.FreePort()};Database=runledger;Username=runledger;Password=hunter2;Timeout=5";
        var start = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "runledger.dll"), "serve", "--data", IngestBodies.NewDataDirectory(), "--urls", "http://127.0.0.1:0", "--store", store })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        var text = await error;
        await output;

        process.ExitCode.ShouldBe(3, text);
        text.ShouldContain("does not answer");
        text.ShouldContain("Check that the database server is running");
        text.ShouldNotContain("Unhandled exception");
        text.ShouldNotContain("hunter2");
    }

    private static async Task WriteAsync(HttpClient client, int writer, IngestLog log, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var ids = Enumerable.Range(0, RunsPerBatch).Select(_ => Guid.CreateVersion7()).ToArray();
            HttpResponseMessage response;
            try
            {
                response = await client.PostAsync("/v1/ingest", IngestBodies.Runs(ids, $"outage-{writer}"), CancellationToken.None);
            }
            catch (HttpRequestException ex)
            {
                log.Unexpected.Add("connection failed: " + ex.Message);
                return;
            }

            using (response)
            {
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    foreach (var id in ids)
                    {
                        log.Acknowledged[id] = true;
                    }

                    await Task.Delay(10, CancellationToken.None);
                }
                else if (response.StatusCode == HttpStatusCode.ServiceUnavailable && response.Headers.RetryAfter?.Delta is { } retryAfter)
                {
                    log.CountUnavailable();
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(retryAfter.TotalMilliseconds, 250)), CancellationToken.None);
                }
                else
                {
                    // Any other answer already fails the test; this writer stops, as on a failed connection.
                    log.Unexpected.Add($"{(int)response.StatusCode} {response.Headers.RetryAfter}: {await response.Content.ReadAsStringAsync(CancellationToken.None)}");
                    return;
                }
            }
        }
    }

    private static async Task<string> ProblemDetailAsync(HttpResponseMessage response)
    {
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        return document.RootElement.GetProperty("detail").GetString() ?? string.Empty;
    }

    private static async Task WaitForAsync(Func<bool> condition, TimeSpan timeout, string failure)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, failure);
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    private sealed class IngestLog
    {
        private int _unavailable;

        public ConcurrentDictionary<Guid, bool> Acknowledged { get; } = new();

        public ConcurrentBag<string> Unexpected { get; } = [];

        public int Unavailable => Volatile.Read(ref _unavailable);

        public void CountUnavailable() => Interlocked.Increment(ref _unavailable);
    }
}
