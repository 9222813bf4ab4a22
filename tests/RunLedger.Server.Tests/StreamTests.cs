using System.Text.Json;
using static RunLedger.Server.Tests.RunBuilder;

namespace RunLedger.Server.Tests;

public sealed class StreamTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 21, 8, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Stream_RunsIngestedAfterConnecting_ArriveAsEvents()
    {
        await using var server = await LedgerTestServer.StartAsync();
        await server.Client.IngestOkAsync(Batch(3, T0).Body);
        await using var stream = await SseReader.ConnectAsync(server.Client, "/v1/stream");
        stream.Response.Content.Headers.ContentType!.MediaType.ShouldBe("text/event-stream");
        var (body, ids) = Batch(5, T0.AddMinutes(1), "\"status\":\"succeeded\"");
        await server.Client.IngestOkAsync(body);

        var messages = await stream.ReadUntilAsync(m => m.Count >= 5, Deadline);

        messages.Count.ShouldBe(5, "only the runs ingested after connecting");
        foreach (var message in messages)
        {
            message.Event.ShouldBe("run.completed");
            using var data = JsonDocument.Parse(message.Data);
            data.RootElement.GetProperty("id").GetInt64().ShouldBe(message.Id);
            data.RootElement.GetProperty("type").GetString().ShouldBe(message.Event);
        }

        messages.Select(m => JsonDocument.Parse(m.Data).RootElement.GetProperty("runId").GetString()).ShouldBe(ids, ignoreOrder: true);
        messages.Select(m => m.Id).ShouldBe(messages.Select(m => m.Id).Order());
    }

    [Fact]
    public async Task RunEventData_EventsPageRunDetailAndStream_AreTheFullJsonByteForByte()
    {
        // The SQLite store keeps a run event's data without the run's id and name and puts them
        // back on read: every way out must give the very bytes a store keeping it whole gives.
        await using var server = await LedgerTestServer.StartAsync();
        var id = NewId();
        await server.Client.IngestOkAsync(Body([Run(id, T0, "\"name\":\"plan \\\"q\\\" <b> \u00e9 & ok\",\"model\":\"gpt-4o\",\"status\":\"running\"")]));
        var expected = "{\"id\":\"" + id + "\",\"name\":\"plan \\u0022q\\u0022 \\u003Cb\\u003E \\u00E9 \\u0026 ok\",\"kind\":\"llm\",\"status\":\"running\",\"model\":\"gpt-4o\"}";

        var page = await server.Client.EventsAfterAsync(0, "type:run.started");
        page.Single().GetProperty("data").GetRawText().ShouldBe(expected);
        var detail = await server.Client.GetJsonAsync("/v1/runs/" + id);
        detail.GetProperty("events").EnumerateArray().Single().GetProperty("data").GetRawText().ShouldBe(expected);
        await using var stream = await SseReader.ConnectAsync(server.Client, "/v1/stream", 0);
        var messages = await stream.ReadUntilAsync(m => m.Any(x => x.Event == "run.started"), Deadline);
        using var message = JsonDocument.Parse(messages.First(m => m.Event == "run.started").Data);
        message.RootElement.GetProperty("data").GetRawText().ShouldBe(expected);
    }

    [Fact]
    public async Task Stream_ReconnectWithLastEventId_ReceivesExactlyTheMissedEventsInOrder()
    {
        await using var server = await LedgerTestServer.StartAsync();
        long lastSeen;
        await using (var first = await SseReader.ConnectAsync(server.Client, "/v1/stream"))
        {
            var (body, _) = Batch(4, T0);
            await server.Client.IngestOkAsync(body);
            var seen = await first.ReadUntilAsync(m => m.Count >= 4, Deadline);
            seen.Count.ShouldBe(4);
            lastSeen = seen[^1].Id;
        }

        // Missed while away: several requests, runs and custom events, a session, an update.
        var missedRuns = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var (body, ids) = Batch(30, T0.AddHours(i + 1), i % 2 == 0 ? "\"status\":\"failed\"" : null);
            await server.Client.IngestOkAsync(body);
            missedRuns.AddRange(ids);
        }

        await server.Client.IngestOkAsync("{\"sessions\":[{\"id\":\"away\"}],\"events\":[{\"type\":\"heartbeat\"},{\"type\":\"user_feedback\",\"data\":{\"score\":1}}]}");
        var expected = (await server.Client.EventsAfterAsync(lastSeen)).Select(e => e.GetProperty("id").GetInt64()).ToList();
        expected.Count.ShouldBeGreaterThanOrEqualTo(153);

        await using var second = await SseReader.ConnectAsync(server.Client, "/v1/stream", lastSeen);
        var missed = await second.ReadUntilAsync(m => m.Count >= expected.Count, Deadline);
        missed.Select(m => m.Id).ShouldBe(expected);

        // Then live events continue after the backlog, without repeats.
        var (live, liveIds) = Batch(2, T0.AddDays(1));
        await server.Client.IngestOkAsync(live);
        var more = await second.ReadUntilAsync(m => m.Count >= 2, Deadline);
        more.Count.ShouldBe(2);
        var backlogEnd = expected[^1];
        more.ShouldAllBe(m => m.Id > backlogEnd);
        more.Select(m => JsonDocument.Parse(m.Data).RootElement.GetProperty("runId").GetString()).ShouldBe(liveIds, ignoreOrder: true);
    }

    [Fact]
    public async Task Stream_AfterQueryParameter_ResumesLikeLastEventId()
    {
        await using var server = await LedgerTestServer.StartAsync();
        await server.Client.IngestOkAsync(Batch(10, T0).Body);
        var all = await server.Client.EventsAfterAsync();
        var from = all[3].GetProperty("id").GetInt64();

        await using var stream = await SseReader.ConnectAsync(server.Client, $"/v1/stream?after={from}");
        var messages = await stream.ReadUntilAsync(m => m.Count >= all.Count - 4, Deadline);
        messages.Select(m => m.Id).ShouldBe(all.Skip(4).Select(e => e.GetProperty("id").GetInt64()));
    }

    [Fact]
    public async Task Stream_FilteredByType_DeliversOnlyThoseEvents()
    {
        await using var server = await LedgerTestServer.StartAsync();
        await using var stream = await SseReader.ConnectAsync(server.Client, "/v1/stream?q=" + Uri.EscapeDataString("type:run.failed"));
        var failed = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var (ok, _) = Batch(10, T0.AddMinutes(i), "\"status\":\"succeeded\"");
            var (bad, badIds) = Batch(3, T0.AddMinutes(i).AddSeconds(30), "\"status\":\"failed\"");
            await server.Client.IngestOkAsync(ok);
            await server.Client.IngestOkAsync(bad);
            await server.Client.IngestOkAsync("{\"events\":[{\"type\":\"heartbeat\"}]}");
            failed.AddRange(badIds);
        }

        var messages = await stream.ReadUntilAsync(m => m.Count >= failed.Count, Deadline);
        messages.Count.ShouldBe(failed.Count);
        messages.ShouldAllBe(m => m.Event == "run.failed");
        messages.Select(m => JsonDocument.Parse(m.Data).RootElement.GetProperty("runId").GetString()).ShouldBe(failed, ignoreOrder: true);

        // Nothing else trails behind: a final failed run is the very next message.
        var (last, lastIds) = Batch(1, T0.AddHours(2), "\"status\":\"failed\"");
        await server.Client.IngestOkAsync(Batch(5, T0.AddHours(1)).Body);
        await server.Client.IngestOkAsync(last);
        var next = await stream.ReadUntilAsync(m => m.Count >= 1, Deadline);
        next.ShouldHaveSingleItem().Data.ShouldContain(lastIds[0]);
    }
}
