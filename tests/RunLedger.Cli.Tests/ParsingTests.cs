namespace RunLedger.Cli.Tests;

public sealed class ParsingTests
{
    public static TheoryData<string> ValidCommandLines() =>
    [
        "serve",
        "serve --data ledger-data --urls http://0.0.0.0:8080 --demo",
        "status",
        "status --since 2d --json",
        "runs list",
        "runs list status:failed model:gpt-4o* started>-24h --limit 10",
        "runs list -status:failed --all",
        "runs show 0193a1b2-0000-7000-8000-000000000001 --full",
        "sessions list state:active",
        "sessions show nightly-1 --server http://example.test:5170 --key rl_abcdefghijklmnop",
        "stats --q status:failed --group-by model,name --interval 1d --from -7d --to -1d --compare",
        "events tail",
        "events tail --follow --q type:run.failed --after 120 --limit 0",
        "keys create --name ci --project default --scopes ingest,read",
        "keys list --json",
        "keys revoke 3",
        "projects list",
        "projects create research",
        "demo --seed 7 --runs 500",
    ];

    public static TheoryData<string> InvalidCommandLines() =>
    [
        "",
        "nope",
        "runs",
        "runs show",
        "runs list --limit -1",
        "runs list --limit many",
        "status --since soon",
        "stats --interval 2d",
        "stats --group-by a,b,c,d,e",
        "keys create",
        "keys create --name ci --scopes write",
        "keys revoke abc",
        "events tail --after x",
        "demo --runs 0",
        "projects create",
    ];

    [Theory]
    [MemberData(nameof(ValidCommandLines))]
    public void Parse_EveryCommand_HasNoErrors(string commandLine)
    {
        var root = CliApp.BuildRootCommand(new TestHost().Build());

        var result = root.Parse(Split(commandLine));

        result.Errors.ShouldBeEmpty(string.Join("; ", result.Errors.Select(e => e.Message)));
    }

    [Theory]
    [MemberData(nameof(InvalidCommandLines))]
    public async Task Run_BadArguments_ExitsWithUsageCode(string commandLine)
    {
        var host = new TestHost { Handler = StubHandler.Json(System.Net.HttpStatusCode.OK, "{}") };

        var exitCode = await host.RunAsync(Split(commandLine));

        exitCode.ShouldBe(ExitCodes.Usage);
        host.Error.ToString().ShouldNotBeEmpty();
    }

    [Fact]
    public async Task Serve_PassesOptionsAndExtraArgumentsToTheServer()
    {
        var host = new TestHost { CurrentDirectory = Path.GetTempPath() };

        var exitCode = await host.RunAsync("serve", "--urls", "http://127.0.0.1:6000", "--demo", "RunLedger:Ingest:QueueCapacity=64");

        exitCode.ShouldBe(0);
        host.ServedWith.ShouldNotBeNull();
        host.ServedWith.Urls.ShouldBe("http://127.0.0.1:6000");
        host.ServedWith.Demo.ShouldBeTrue();
        host.ServedWith.DataDirectory.ShouldBe(Path.GetFullPath("runledger-data", Path.GetTempPath()));
        host.ServedWith.Arguments.ShouldBe(["RunLedger:Ingest:QueueCapacity=64"]);
    }

    [Fact]
    public async Task RunsList_FilterWords_AreJoinedIntoOneQuery()
    {
        var handler = StubHandler.Json(System.Net.HttpStatusCode.OK, Samples.RunPage);
        var host = new TestHost { Handler = handler };

        var exitCode = await host.RunAsync("runs", "list", "status:failed", "refund policy", "--limit", "5");

        exitCode.ShouldBe(0);
        var query = Uri.UnescapeDataString(handler.Requests.Single().RequestUri!.Query);
        query.ShouldContain("q=status:failed \"refund policy\"");
        query.ShouldContain("limit=5");
    }

    private static string[] Split(string commandLine) =>
        commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
