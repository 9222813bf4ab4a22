using System.Net;

namespace RunLedger.Server.Tests;

public sealed class SmokeTests
{
    [Fact]
    public async Task Ingest_ThenGet_ReturnsTheRun()
    {
        await using var server = await LedgerTestServer.StartAsync();
        var id = Guid.CreateVersion7().ToString();
        var body = $$"""
            {"runs":[{"id":"{{id}}","kind":"llm","name":"summarize","status":"succeeded","startedAt":"2026-11-21T23:00:00Z","endedAt":"2026-11-21T23:00:02.5Z",
              "model":"gpt-4o","input":[{"role":"user","content":"hello refund policy"}],"output":"hi there","usage":{"inputTokens":10,"outputTokens":5},
              "costUsd":0.0001234,"tags":["nightly"],"metadata":{"repository":"acme/web"},"sessionId":"s1"}]}
            """;
        using var response = await server.Client.PostAsync("/v1/ingest", LedgerTestServer.Json(body));
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);

        var run = await server.Client.GetJsonAsync($"/v1/runs/{id}");
        run.GetProperty("run").GetProperty("output").GetString().ShouldBe("hi there");
        run.GetProperty("run").GetProperty("durationMs").GetDouble().ShouldBe(2500);
        var list = await server.Client.GetJsonAsync("/v1/runs?q=" + Uri.EscapeDataString("status:succeeded model:gpt-4o* \"refund policy\""));
        list.GetProperty("items").GetArrayLength().ShouldBe(1);
        var stats = await server.Client.GetJsonAsync("/v1/stats?from=2026-11-21&to=2026-11-22&groupBy=model");
        stats.GetProperty("total").GetProperty("count").GetInt64().ShouldBe(1);
        var session = await server.Client.GetJsonAsync("/v1/sessions/s1");
        session.GetProperty("session").GetProperty("runCount").GetInt64().ShouldBe(1);
        var events = await server.Client.GetJsonAsync("/v1/events?after=0");
        events.GetProperty("items").GetArrayLength().ShouldBeGreaterThan(0);
    }
}
