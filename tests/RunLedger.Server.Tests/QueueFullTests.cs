using System.Net;
using System.Text.Json;

namespace RunLedger.Server.Tests;

public sealed class QueueFullTests
{
    [Fact]
    public async Task Ingest_QueueFull_Answers503WithRetryAfterAndStoresExactlyTheAcknowledgedRuns()
    {
        await using var server = await LedgerTestServer.StartAsync(["RunLedger:Ingest:QueueCapacity=1", "RunLedger:Ingest:RetryAfterSeconds=2"]);
        var acknowledged = new HashSet<string>(StringComparer.Ordinal);
        var refused = new HashSet<string>(StringComparer.Ordinal);
        var refusals = 0;
        var start = new DateTimeOffset(2026, 11, 21, 0, 0, 0, TimeSpan.Zero);

        // With one queue slot, one batch being written and one waiting, the rest of a burst of
        // large requests must be refused. Bursts repeat until one is (no timing is assumed).
        for (var round = 0; round < 10 && refusals == 0; round++)
        {
            var requests = Enumerable.Range(0, 16).Select(i => RunBuilder.Batch(2000, start.AddHours(round).AddMinutes(i))).ToList();
            var answers = await Task.WhenAll(requests.Select(async r =>
            {
                using var response = await server.Client.PostAsync("/v1/ingest", LedgerTestServer.Json(r.Body));
                var text = await response.Content.ReadAsStringAsync();
                return (response.StatusCode, RetryAfter: response.Headers.RetryAfter?.Delta, response.Content.Headers.ContentType?.MediaType, Text: text, r.Ids);
            }));

            foreach (var answer in answers)
            {
                if (answer.StatusCode == HttpStatusCode.OK)
                {
                    acknowledged.UnionWith(answer.Ids);
                    continue;
                }

                answer.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable, answer.Text);
                answer.RetryAfter.ShouldBe(TimeSpan.FromSeconds(2));
                answer.MediaType.ShouldBe("application/problem+json");
                using var problem = JsonDocument.Parse(answer.Text);
                problem.RootElement.GetProperty("status").GetInt32().ShouldBe(503);
                problem.RootElement.GetProperty("detail").GetString()!.ShouldContain("Retry-After");
                refused.UnionWith(answer.Ids);
                refusals++;
            }
        }

        refusals.ShouldBeGreaterThan(0, "no request was ever refused with a one-slot queue");
        acknowledged.ShouldNotBeEmpty();
        var stored = (await server.Client.AllRunsAsync()).Select(r => r.GetProperty("id").GetString()!).ToList();
        stored.Count.ShouldBe(acknowledged.Count);
        stored.ToHashSet(StringComparer.Ordinal).SetEquals(acknowledged).ShouldBeTrue();
        stored.ShouldNotContain(id => refused.Contains(id));
        LedgerDatabase.Count(server, "runs").ShouldBe(acknowledged.Count);

        // A refused request is safe to retry: once the queue drains it is accepted whole.
        var retry = RunBuilder.Batch(10, start.AddDays(1));
        await server.Client.IngestOkAsync(retry.Body);
        (await server.Client.AllRunsAsync()).Count.ShouldBe(acknowledged.Count + 10);
    }
}
