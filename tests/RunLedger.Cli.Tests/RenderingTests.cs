using System.Net;
using RunLedger.Cli.Rendering;
using RunLedger.Core.Model;

namespace RunLedger.Cli.Tests;

public sealed class RenderingTests
{
    [Fact]
    public async Task Status_RendersSummaryFailuresSessionsAndSlowestAsPlainText()
    {
        var handler = StubHandler.Route(
            ("/v1/stats", Samples.Stats),
            ("/v1/sessions", Samples.Sessions),
            ("status%3Atimeout", """{"items":[],"nextCursor":null}"""),
            ("status%3Afailed", Samples.RunPage),
            ("/v1/runs", Samples.SlowPage));
        var host = new TestHost { Handler = handler };

        var exitCode = await host.RunAsync("status", "--since", "12h", "--key", "rl_key_0000000000000");

        exitCode.ShouldBe(0, host.Error.ToString());
        var text = host.Output.ToString();
        text.ShouldContain("last 12h");
        text.ShouldContain("120");
        text.ShouldContain("$12.50");
        text.ShouldContain("p95 6.10 s");
        text.ShouldContain("nightly-1");
        text.ShouldContain("RateLimitError: 429 Too Many Requests");
        text.ShouldContain("answer-support-ticket");
        text.ShouldContain("1m 35s");
        text.ShouldNotContain("\u001b[");
        var runQueries = handler.Requests.Where(r => r.RequestUri!.AbsolutePath == "/v1/runs").Select(r => Uri.UnescapeDataString(r.RequestUri!.Query)).ToList();
        runQueries.ShouldContain(q => q.Contains("q=status:failed started>-12h", StringComparison.Ordinal));
        runQueries.ShouldContain(q => q.Contains("duration>=", StringComparison.Ordinal));
    }

    [Fact]
    public void StatusRenderer_EmptyWindow_SaysNone()
    {
        var output = new StringWriter();
        var console = ConsoleFactory.Create(output, interactive: false, color: false, width: 120);
        var report = new StatusReport
        {
            Since = "12h",
            Server = new Uri("http://127.0.0.1:5170"),
            From = TestHost.Now.AddHours(-12),
            To = TestHost.Now,
            Total = new RunLedger.Core.Storage.StatsFigures(),
        };

        StatusRenderer.Render(console, report, TestHost.Now);

        output.ToString().ShouldContain("none");
    }

    [Fact]
    public async Task RunsShow_RendersChatInputErrorAndChildren()
    {
        var detail = "{\"run\":" + Samples.FailedRun + ",\"children\":[" + Samples.SlowRun + "],\"events\":[{\"id\":9,\"type\":\"run.failed\",\"time\":\"2026-11-22T05:00:02Z\"}]}";
        var host = new TestHost { Handler = StubHandler.Json(HttpStatusCode.OK, detail) };

        var exitCode = await host.RunAsync("runs", "show", Samples.FailedRunId);

        exitCode.ShouldBe(0, host.Error.ToString());
        var text = host.Output.ToString();
        text.ShouldContain("[user] Refund policy for resellers?");
        text.ShouldContain("RateLimitError: 429 Too Many Requests");
        text.ShouldContain("children (1)");
        text.ShouldContain("run.failed");
    }

    [Fact]
    public async Task RunsShow_UnreadableBody_SaysWhyAndShowsTheRest()
    {
        var run = """{"id":"0193a000-0000-7000-8000-0000000000aa","kind":"llm","name":"plan","status":"failed","startedAt":"2026-11-22T05:00:00Z","usage":{},"source":"api","error":{"type":"X","message":"upstream exploded"},"output":"kept answer","inputInfo":{"originalBytes":14,"sha256":"ab12","truncated":false,"unreadable":"stored body could not be decoded: Unknown payload encoding 99."},"outputInfo":{"originalBytes":13,"sha256":"cd34","truncated":false}}""";
        var host = new TestHost { Handler = StubHandler.Json(HttpStatusCode.OK, "{\"run\":" + run + ",\"children\":[],\"events\":[]}") };

        var exitCode = await host.RunAsync("runs", "show", "0193a000-0000-7000-8000-0000000000aa");

        exitCode.ShouldBe(0, host.Error.ToString());
        var text = host.Output.ToString();
        text.ShouldContain("Unknown payload encoding 99.");
        text.ShouldContain("not shown");
        text.ShouldContain("kept answer");
        text.ShouldContain("upstream exploded");
    }

    [Theory]
    [InlineData(null, "-")]
    [InlineData(0.4, "<1 ms")]
    [InlineData(850.0, "850 ms")]
    [InlineData(2500.0, "2.50 s")]
    [InlineData(95000.0, "1m 35s")]
    [InlineData(7_380_000.0, "2h 03m")]
    public void Duration_IsHumanFriendly(double? ms, string expected) => Format.Duration(ms).ShouldBe(expected);

    [Theory]
    [InlineData("0.0042", "$0.0042")]
    [InlineData("12.5", "$12.50")]
    [InlineData("1234.5", "$1,235")]
    public void Cost_IsHumanFriendly(string usd, string expected) =>
        Format.Cost(decimal.Parse(usd, System.Globalization.CultureInfo.InvariantCulture)).ShouldBe(expected);

    [Fact]
    public void Ago_IsRelativeToNow()
    {
        Format.Ago(TestHost.Now.AddSeconds(-10), TestHost.Now).ShouldBe("just now");
        Format.Ago(TestHost.Now.AddMinutes(-12), TestHost.Now).ShouldBe("12m ago");
        Format.Ago(TestHost.Now.AddHours(-3), TestHost.Now).ShouldBe("3h ago");
        Format.Ago(TestHost.Now.AddDays(-40), TestHost.Now).ShouldBe("2026-10-13");
    }

    [Theory]
    [InlineData("12h", "-12h")]
    [InlineData("-30m", "-30m")]
    [InlineData("2d", "-2d")]
    public void LookBack_IsNormalizedToRelative(string text, string expected)
    {
        Format.TryParseLookBack(text, out var relative, out _).ShouldBeTrue();
        relative.ShouldBe(expected);
    }

    [Fact]
    public void Truncate_SaysWhatWasLeftOut()
    {
        var text = string.Join('\n', Enumerable.Range(1, 100).Select(i => "line " + i));

        var cut = BodyText.Truncate(text, 10, 10_000);

        cut.ShouldStartWith("line 1\n");
        cut.ShouldContain("90 more lines");
        cut.ShouldContain("--full");
    }

    [Fact]
    public void Body_TruncationMarker_IsSaidInWords()
    {
        var body = RawJson.Parse("""{"$truncated":true,"originalBytes":900000,"sha256":"abc","head":"Once upon"}""");

        BodyText.Render(body).ShouldContain("900000 bytes originally");
    }
}
