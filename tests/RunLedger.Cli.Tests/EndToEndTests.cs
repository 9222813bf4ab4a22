namespace RunLedger.Cli.Tests;

/// <summary>The CLI against a real <c>runledger serve</c> process: the answers and the exit codes scripts rely on.</summary>
public sealed class EndToEndTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "runledger-cli-e2e", Guid.NewGuid().ToString("N"));
    private ServerProcess? _server;

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        _server = await ServerProcess.StartAsync(_directory, ServerProcess.FreePort());
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private TestHost Host(string? key = ServerProcess.AdminKey)
    {
        var host = new TestHost { Time = TimeProvider.System };
        host.Environment["RUNLEDGER_URL"] = _server!.Url;
        if (key is not null)
        {
            host.Environment["RUNLEDGER_KEY"] = key;
        }

        return host;
    }

    [Fact]
    public async Task Demo_ThenStatusAndQueries_ShowTheNight()
    {
        var demo = Host();
        (await demo.RunAsync("demo", "--runs", "300", "--seed", "5")).ShouldBe(0, demo.Error.ToString());

        var status = Host();
        (await status.RunAsync("status", "--since", "12h")).ShouldBe(0, status.Error.ToString());
        var text = status.Output.ToString();
        text.ShouldContain("300");
        text.ShouldContain("failures");
        text.ShouldContain("slowest");

        var json = Host();
        (await json.RunAsync("runs", "list", "kind:llm", "--limit", "5", "--json")).ShouldBe(0, json.Error.ToString());
        using var document = System.Text.Json.JsonDocument.Parse(json.Output.ToString());
        document.RootElement.GetProperty("items").GetArrayLength().ShouldBe(5);
        var id = document.RootElement.GetProperty("items")[0].GetProperty("id").GetString()!;

        var show = Host();
        (await show.RunAsync("runs", "show", id)).ShouldBe(0, show.Error.ToString());
        show.Output.ToString().ShouldContain(id);

        var stats = Host();
        (await stats.RunAsync("stats", "--group-by", "model", "--from", "-1d")).ShouldBe(0, stats.Error.ToString());
        stats.Output.ToString().ShouldContain("total");

        // A session's top-level runs come a page at a time; --all follows the pages.
        var sessions = Host();
        (await sessions.RunAsync("sessions", "list", "--limit", "1", "--json")).ShouldBe(0, sessions.Error.ToString());
        using var sessionList = System.Text.Json.JsonDocument.Parse(sessions.Output.ToString());
        var sessionId = sessionList.RootElement.GetProperty("items")[0].GetProperty("id").GetString()!;
        var everyRun = Host();
        (await everyRun.RunAsync("sessions", "show", sessionId, "--all", "--json")).ShouldBe(0, everyRun.Error.ToString());
        using var all = System.Text.Json.JsonDocument.Parse(everyRun.Output.ToString());
        var topLevel = all.RootElement.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("id").GetString()).ToList();
        topLevel.Count.ShouldBeGreaterThan(2);
        topLevel.Distinct().Count().ShouldBe(topLevel.Count);
        all.RootElement.TryGetProperty("nextCursor", out _).ShouldBeFalse();
        var two = Host();
        (await two.RunAsync("sessions", "show", sessionId, "--limit", "2")).ShouldBe(0, two.Error.ToString());
        two.Output.ToString().ShouldContain("More top-level runs");
    }

    [Fact]
    public async Task ExitCodes_FromARealServer_AreTheDocumentedOnes()
    {
        var badFilter = Host();
        (await badFilter.RunAsync("runs", "list", "status:bogus")).ShouldBe(2);
        badFilter.Error.ToString().ShouldContain("column 8");

        var wrongKey = Host("rl_not-a-key-of-this-server-000000");
        (await wrongKey.RunAsync("runs", "list")).ShouldBe(4);

        var missing = Host();
        (await missing.RunAsync("runs", "show", Guid.CreateVersion7().ToString())).ShouldBe(1);

        var unreachable = Host();
        unreachable.Environment["RUNLEDGER_URL"] = $"http://127.0.0.1:{ServerProcess.FreePort()}";
        (await unreachable.RunAsync("runs", "list")).ShouldBe(3);
    }

    [Fact]
    public async Task Keys_CreateListRevoke_TheRevokedKeyStopsWorking()
    {
        var create = Host();
        (await create.RunAsync("keys", "create", "--name", "reader", "--scopes", "read", "--json")).ShouldBe(0, create.Error.ToString());
        using var created = System.Text.Json.JsonDocument.Parse(create.Output.ToString());
        var secret = created.RootElement.GetProperty("secret").GetString()!;
        var keyId = created.RootElement.GetProperty("id").GetInt64();

        var reader = Host(secret);
        (await reader.RunAsync("runs", "list")).ShouldBe(0, reader.Error.ToString());
        var ingestWithReader = Host(secret);
        (await ingestWithReader.RunAsync("demo", "--runs", "5")).ShouldBe(4);

        var revoke = Host();
        (await revoke.RunAsync("keys", "revoke", keyId.ToString(System.Globalization.CultureInfo.InvariantCulture))).ShouldBe(0, revoke.Error.ToString());
        var after = Host(secret);
        (await after.RunAsync("runs", "list")).ShouldBe(4);
    }
}
