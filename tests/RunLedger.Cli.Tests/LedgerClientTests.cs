using System.Net;
using System.Text;
using RunLedger.Cli.Api;

namespace RunLedger.Cli.Tests;

public sealed class LedgerClientTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ListRuns_ReadsThePageAndSendsTheKey()
    {
        var handler = StubHandler.Json(HttpStatusCode.OK, Samples.RunPage);
        using var client = LedgerClient.Create(new Uri("http://ledger.test:5170"), "rl_key_0000000000000", handler);

        var page = await client.ListRunsAsync("status:failed started>-12h", 10, null, Ct);

        page.Items.Single().Error!.Type.ShouldBe("RateLimitError");
        page.Items.Single().Usage.TotalTokens.ShouldBe(1500);
        var request = handler.Requests.Single();
        request.RequestUri!.AbsolutePath.ShouldBe("/v1/runs");
        Uri.UnescapeDataString(request.RequestUri.Query).ShouldBe("?q=status:failed started>-12h&limit=10");
        request.Headers.Authorization!.ToString().ShouldBe("Bearer rl_key_0000000000000");
    }

    [Fact]
    public async Task Error_InvalidFilter_ThrowsWithProblemDetails()
    {
        using var client = LedgerClient.Create(new Uri("http://ledger.test"), "k", StubHandler.Json(HttpStatusCode.BadRequest, Samples.Problem400));

        var ex = await Should.ThrowAsync<LedgerApiException>(() => client.ListRunsAsync("status:", null, null, Ct));

        ex.Status.ShouldBe(HttpStatusCode.BadRequest);
        ex.Problem!.Title.ShouldBe("The filter is not valid.");
        ex.Problem.Field.ShouldBe("q");
        ex.Problem.Column.ShouldBe(8);
        ex.RequiredScope.ShouldBe("read");
    }

    [Fact]
    public async Task Error_Forbidden_OnKeys_NamesTheAdminScope()
    {
        using var client = LedgerClient.Create(new Uri("http://ledger.test"), "k", StubHandler.Json(HttpStatusCode.Forbidden, Samples.Problem403));

        var ex = await Should.ThrowAsync<LedgerApiException>(() => client.ListKeysAsync(Ct));

        ex.Status.ShouldBe(HttpStatusCode.Forbidden);
        ex.RequiredScope.ShouldBe("admin");
    }

    [Fact]
    public async Task Error_NotProblemDetails_KeepsTheBodyAsDetail()
    {
        using var client = LedgerClient.Create(new Uri("http://ledger.test"), "k", new StubHandler(_ => StubHandler.Response(HttpStatusCode.BadGateway, "<html>bad gateway</html>", "text/html")));

        var ex = await Should.ThrowAsync<LedgerApiException>(() => client.GetRunAsync("x", Ct));

        ex.Status.ShouldBe(HttpStatusCode.BadGateway);
        ex.Problem!.Detail.ShouldBe("<html>bad gateway</html>");
    }

    [Fact]
    public async Task ConnectionRefused_ThrowsUnreachableWithTheUrl()
    {
        var handler = new StubHandler(_ => throw new HttpRequestException("Connection refused (127.0.0.1:5170)"));
        using var client = LedgerClient.Create(new Uri("http://127.0.0.1:5170"), null, handler);

        var ex = await Should.ThrowAsync<LedgerUnreachableException>(() => client.GetStatsAsync(new StatsRequest(), Ct));

        ex.Server.ShouldBe(new Uri("http://127.0.0.1:5170/"));
    }

    [Fact]
    public async Task Ingest_PartialSuccess_IsReturnedNotThrown()
    {
        var handler = StubHandler.Json(HttpStatusCode.MultiStatus, """{"accepted":1,"rejected":[{"kind":"run","index":1,"id":"x","error":"status: 'done' is not valid"}]}""");
        using var client = LedgerClient.Create(new Uri("http://ledger.test"), "k", handler);

        var answer = await client.IngestAsync(new RunLedger.Core.Ingest.IngestRequest { Runs = [new() { Name = "a" }, new() { Status = "done" }] }, Ct);

        answer.Accepted.ShouldBe(1);
        answer.Rejected.Single().Index.ShouldBe(1);
        var body = handler.Bodies.Single()!;
        body.ShouldContain("\"status\":\"done\"");
        body.ShouldNotContain("null");
    }

    [Fact]
    public async Task Stats_BuildsTheQueryString()
    {
        var handler = StubHandler.Json(HttpStatusCode.OK, Samples.Stats);
        using var client = LedgerClient.Create(new Uri("http://ledger.test/prefix"), "k", handler);

        await client.GetStatsAsync(new StatsRequest { GroupBy = ["model", "name"], Interval = "1d", From = "-7d", ComparePrevious = true }, Ct);

        var uri = handler.Requests.Single().RequestUri!;
        uri.AbsolutePath.ShouldBe("/prefix/v1/stats");
        Uri.UnescapeDataString(uri.Query).ShouldBe("?groupBy=model,name&interval=1d&from=-7d&compare=previous");
    }

    [Fact]
    public async Task Stream_AfterADroppedConnection_ResumesWithLastEventId()
    {
        var connections = 0;
        var handler = new StubHandler(request =>
        {
            connections++;
            var body = connections == 1
                ? ": hello\n\nid: 1\nevent: run.started\ndata: {\"id\":1,\"type\":\"run.started\",\"time\":\"2026-11-22T05:00:00Z\"}\n\n" +
                  "id: 2\nevent: run.failed\ndata: {\"id\":2,\"type\":\"run.failed\",\"time\":\"2026-11-22T05:00:01Z\"}\n\n"
                : "id: 3\nevent: heartbeat\ndata: {\"id\":3,\"type\":\"heartbeat\",\"time\":\"2026-11-22T05:00:02Z\"}\n\n";
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(body))) };
        });
        using var client = LedgerClient.Create(new Uri("http://ledger.test"), "k", handler);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var received = new List<long>();
        var reconnects = 0;

        try
        {
            await foreach (var e in client.StreamEventsAsync(null, null, (_, _) => reconnects++, cts.Token))
            {
                received.Add(e.Id);
                if (received.Count == 3)
                {
                    await cts.CancelAsync();
                }
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
        }

        received.ShouldBe([1L, 2L, 3L]);
        reconnects.ShouldBe(1);
        handler.Requests[0].Headers.Contains("Last-Event-ID").ShouldBeFalse();
        handler.Requests[1].Headers.GetValues("Last-Event-ID").Single().ShouldBe("2");
    }
}
