using System.Net;

namespace RunLedger.Cli.Tests;

public sealed class ExitCodeTests
{
    [Theory]
    [InlineData(HttpStatusCode.BadRequest, ExitCodes.Usage)]
    [InlineData(HttpStatusCode.Unauthorized, ExitCodes.NotAuthorized)]
    [InlineData(HttpStatusCode.Forbidden, ExitCodes.NotAuthorized)]
    [InlineData(HttpStatusCode.NotFound, ExitCodes.ServerError)]
    [InlineData(HttpStatusCode.RequestEntityTooLarge, ExitCodes.ServerError)]
    [InlineData(HttpStatusCode.TooManyRequests, ExitCodes.ServerError)]
    [InlineData(HttpStatusCode.InternalServerError, ExitCodes.ServerError)]
    [InlineData(HttpStatusCode.ServiceUnavailable, ExitCodes.ServerError)]
    public async Task Run_ServerError_MapsToDocumentedExitCode(HttpStatusCode status, int expected)
    {
        var host = new TestHost { Handler = StubHandler.Json(status, $$"""{"title":"Something went wrong.","status":{{(int)status}},"detail":"the detail"}""") };

        var exitCode = await host.RunAsync("runs", "show", "0193a1b2-0000-7000-8000-000000000001", "--key", "rl_key_0000000000000");

        exitCode.ShouldBe(expected);
        host.Error.ToString().ShouldContain("Something went wrong.");
        host.Error.ToString().ShouldContain("the detail");
    }

    [Fact]
    public async Task Run_Forbidden_SaysWhichScopeIsMissing()
    {
        var host = new TestHost { Handler = StubHandler.Json(HttpStatusCode.Forbidden, Samples.Problem403) };
        host.Environment["RUNLEDGER_KEY"] = "rl_readonly_00000000";

        var exitCode = await host.RunAsync("keys", "list");

        exitCode.ShouldBe(ExitCodes.NotAuthorized);
        host.Error.ToString().ShouldContain("The key from RUNLEDGER_KEY lacks the 'admin' scope");
    }

    [Fact]
    public async Task Run_NoKeyAnywhere_401_ExplainsWhereKeysComeFrom()
    {
        var host = new TestHost { Handler = StubHandler.Json(HttpStatusCode.Unauthorized, Samples.Problem401), CurrentDirectory = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N")) };

        var exitCode = await host.RunAsync("status");

        exitCode.ShouldBe(ExitCodes.NotAuthorized);
        host.Error.ToString().ShouldContain("No API key was sent");
    }

    [Fact]
    public async Task Run_ServerDown_ExitCode3_NamesTheUrlAndSuggestsServe()
    {
        var host = new TestHost { Handler = new StubHandler(_ => throw new HttpRequestException("Connection refused")) };

        var exitCode = await host.RunAsync("runs", "list", "--server", "http://127.0.0.1:5999");

        exitCode.ShouldBe(ExitCodes.Unreachable);
        host.Error.ToString().ShouldContain("http://127.0.0.1:5999/");
        host.Error.ToString().ShouldContain("runledger serve");
    }

    [Fact]
    public async Task Run_InvalidFilter_ExitCode2_ShowsTheColumn()
    {
        var host = new TestHost { Handler = StubHandler.Json(HttpStatusCode.BadRequest, Samples.Problem400) };

        var exitCode = await host.RunAsync("runs", "list", "status:");

        exitCode.ShouldBe(ExitCodes.Usage);
        host.Error.ToString().ShouldContain("column 8");
    }

    [Fact]
    public async Task Run_Json_PrintsParseableJson()
    {
        var host = new TestHost { Handler = StubHandler.Json(HttpStatusCode.OK, Samples.RunPage) };

        var exitCode = await host.RunAsync("runs", "list", "--json");

        exitCode.ShouldBe(0);
        using var document = System.Text.Json.JsonDocument.Parse(host.Output.ToString());
        document.RootElement.GetProperty("items")[0].GetProperty("id").GetString().ShouldBe(Samples.FailedRunId);
    }

    [Fact]
    public async Task Demo_SendsSessionsRunsAndEvents()
    {
        var handler = StubHandler.Json(HttpStatusCode.OK, """{"accepted":10,"rejected":[]}""");
        var host = new TestHost { Handler = handler };

        var exitCode = await host.RunAsync("demo", "--runs", "60", "--seed", "3");

        exitCode.ShouldBe(0);
        var bodies = handler.Bodies;
        bodies.ShouldContain(b => b!.Contains("\"sessions\"", StringComparison.Ordinal));
        bodies.ShouldContain(b => b!.Contains("\"parentId\"", StringComparison.Ordinal));
        bodies.ShouldContain(b => b!.Contains("\"events\"", StringComparison.Ordinal));
        handler.Requests.ShouldAllBe(r => r.RequestUri!.AbsolutePath == "/v1/ingest");
    }
}
