using System.Diagnostics;
using System.Net;
using RunLedger.Postgres.Testing;
using RunLedger.Server.Tests;

namespace RunLedger.Cli.Tests;

/// <summary>
/// Two real <c>runledger serve</c> processes on one PostgreSQL database: a run ingested through
/// one appears on the other's live stream within a second (LISTEN/NOTIFY), and the stream stays
/// resumable from the event table. The servers poll the table only every 30 s here, so only the
/// notification can deliver in time: without fan-out these tests fail.
/// </summary>
public sealed class ReplicaTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private const string SlowPoll = "RunLedger:Stream:PollInterval=00:00:30";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task Stream_RunIngestedThroughAnotherReplica_ArrivesWithinASecond()
    {
        var store = await postgres.NewStoreAsync();
        await using var a = await ServerProcess.StartAsync(IngestBodies.NewDataDirectory(), ServerProcess.FreePort(), "store=" + store, SlowPoll);
        await using var b = await ServerProcess.StartAsync(IngestBodies.NewDataDirectory(), ServerProcess.FreePort(), "store=" + store, SlowPoll);
        using var clientA = IngestBodies.Client(a);
        using var clientB = IngestBodies.Client(b, Timeout.InfiniteTimeSpan);

        long lastSeen;
        await using (var stream = await SseReader.ConnectAsync(clientB, "/v1/stream"))
        {
            stream.Response.StatusCode.ShouldBe(HttpStatusCode.OK);
            var delays = new List<TimeSpan>();
            lastSeen = 0;

            // The first round trip warms both processes (JIT, the month's partition, pooled
            // connections); the five after it are measured.
            for (var i = -1; i < 5; i++)
            {
                var id = Guid.CreateVersion7();
                var clock = Stopwatch.StartNew();
                using (var response = await clientA.PostAsync("/v1/ingest", IngestBodies.Runs([id], "replica"), TestContext.Current.CancellationToken))
                {
                    response.StatusCode.ShouldBe(HttpStatusCode.OK);
                }

                var messages = await stream.ReadUntilAsync(m => m.Any(e => e.Data.Contains(id.ToString(), StringComparison.Ordinal)), TimeSpan.FromSeconds(5));
                clock.Stop();
                messages.ShouldContain(e => e.Data.Contains(id.ToString(), StringComparison.Ordinal), $"run {id} ingested through A never reached B's stream");
                if (i >= 0)
                {
                    delays.Add(clock.Elapsed);
                }

                lastSeen = messages[^1].Id;
            }

            var slowest = delays.Max();
            TestContext.Current.TestOutputHelper?.WriteLine($"ingest on A to stream on B: {string.Join(", ", delays.Select(d => $"{d.TotalMilliseconds:F0} ms"))}");
            slowest.ShouldBeLessThan(Deadline, $"the slowest of {delays.Count} runs took {slowest.TotalMilliseconds:F0} ms from ingest on A to B's stream");
        }

        // Resumable: events committed through A while nobody listened on B arrive, in order and
        // exactly once, when B's stream is resumed with Last-Event-ID.
        var missed = Enumerable.Range(0, 3).Select(_ => Guid.CreateVersion7()).ToArray();
        using (var response = await clientA.PostAsync("/v1/ingest", IngestBodies.Runs(missed, "replica-missed"), TestContext.Current.CancellationToken))
        {
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        await using (var resumed = await SseReader.ConnectAsync(clientB, "/v1/stream", lastSeen))
        {
            var messages = await resumed.ReadUntilAsync(m => missed.All(id => m.Any(e => e.Data.Contains(id.ToString(), StringComparison.Ordinal))), TimeSpan.FromSeconds(5));
            foreach (var id in missed)
            {
                messages.Count(e => e.Data.Contains(id.ToString(), StringComparison.Ordinal)).ShouldBe(1, $"run {id} should arrive exactly once");
            }

            messages.ShouldAllBe(e => e.Id > lastSeen);
            messages.Select(e => e.Id).ShouldBe(messages.Select(e => e.Id).Order(), "events arrive in id order");
        }
    }

    [Fact]
    public async Task Stream_AfterTheDatabaseRestarts_ReplicasFanOutAgainWithoutARestart()
    {
        // Its own server: this test stops it.
        await using var server = await PostgresServer.StartAsync(TestContext.Current.CancellationToken);
        var store = server.ConnectionString(await server.CreateDatabaseAsync(TestContext.Current.CancellationToken));
        await using var a = await ServerProcess.StartAsync(IngestBodies.NewDataDirectory(), ServerProcess.FreePort(), "store=" + store, SlowPoll);
        await using var b = await ServerProcess.StartAsync(IngestBodies.NewDataDirectory(), ServerProcess.FreePort(), "store=" + store, SlowPoll);
        using var clientA = IngestBodies.Client(a);
        using var clientB = IngestBodies.Client(b, Timeout.InfiniteTimeSpan);

        await server.StopAsync(immediate: true, TestContext.Current.CancellationToken);
        await Task.Delay(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        await server.StartAgainAsync(TestContext.Current.CancellationToken);

        // Both servers recover by themselves: wait until they answer again, then give B's
        // listener the time of its longest reconnect delay.
        await WaitUntilReadyAsync(clientA);
        await WaitUntilReadyAsync(clientB);
        await IngestUntilAcknowledgedAsync(clientA, Guid.CreateVersion7());
        await Task.Delay(TimeSpan.FromSeconds(6), TestContext.Current.CancellationToken);

        await using var stream = await SseReader.ConnectAsync(clientB, "/v1/stream");
        stream.Response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var id = Guid.CreateVersion7();
        var clock = Stopwatch.StartNew();
        using (var response = await clientA.PostAsync("/v1/ingest", IngestBodies.Runs([id], "after-restart"), TestContext.Current.CancellationToken))
        {
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var messages = await stream.ReadUntilAsync(m => m.Any(e => e.Data.Contains(id.ToString(), StringComparison.Ordinal)), TimeSpan.FromSeconds(5));
        clock.Stop();
        messages.ShouldContain(e => e.Data.Contains(id.ToString(), StringComparison.Ordinal), "B's listener did not come back after the database restarted");
        clock.Elapsed.ShouldBeLessThan(Deadline);
    }

    private static Task WaitUntilReadyAsync(HttpClient client) =>
        SendUntilOkAsync(() => client.GetAsync("/readyz", TestContext.Current.CancellationToken), onlyUnavailableBefore: false, "the server did not become ready after the database came back");

    /// <summary>The first write after an outage may meet a pooled connection that died with the server; it answers 503, and a retry succeeds.</summary>
    private static Task IngestUntilAcknowledgedAsync(HttpClient client, Guid id) =>
        SendUntilOkAsync(() => client.PostAsync("/v1/ingest", IngestBodies.Runs([id], "after-restart"), TestContext.Current.CancellationToken), onlyUnavailableBefore: true, "ingest was not acknowledged after the database came back");

    /// <summary>
    /// Sends until the server answers 200 (with <paramref name="onlyUnavailableBefore"/>, only 503
    /// may come before it). The next try waits for the server's Retry-After (at most a second),
    /// until a deadline rather than a count of tries, so a slow machine is not a failure.
    /// </summary>
    private static async Task SendUntilOkAsync(Func<Task<HttpResponseMessage>> send, bool onlyUnavailableBefore, string failure)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var response = await send();
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return;
            }

            if (onlyUnavailableBefore)
            {
                response.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
            }

            DateTime.UtcNow.ShouldBeLessThan(deadline, failure);
            var retryAfter = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1);
            await Task.Delay(retryAfter < TimeSpan.FromSeconds(1) ? retryAfter : TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        }
    }
}
