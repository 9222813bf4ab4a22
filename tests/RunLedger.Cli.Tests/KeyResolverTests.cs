namespace RunLedger.Cli.Tests;

public sealed class KeyResolverTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("runledger-cli-").FullName;

    [Fact]
    public void ResolveKey_FlagWinsOverEnvironmentAndFile()
    {
        WriteAdminKey("runledger-data", "rl_from_file_0000000");
        var environment = Env(("RUNLEDGER_KEY", "rl_from_env_00000000"));

        var key = KeyResolver.ResolveKey("rl_from_flag_0000000", null, environment, _directory);

        key.Key.ShouldBe("rl_from_flag_0000000");
        key.Source.ShouldBe("--key");
    }

    [Fact]
    public void ResolveKey_EnvironmentWinsOverFile()
    {
        WriteAdminKey("runledger-data", "rl_from_file_0000000");

        var key = KeyResolver.ResolveKey(null, null, Env(("RUNLEDGER_KEY", "rl_from_env_00000000")), _directory);

        key.Key.ShouldBe("rl_from_env_00000000");
        key.Source.ShouldBe("RUNLEDGER_KEY");
    }

    [Fact]
    public void ResolveKey_ReadsAdminKeyFromDefaultDataDirectory()
    {
        WriteAdminKey("runledger-data", "rl_from_file_0000000\n");

        var key = KeyResolver.ResolveKey(null, null, Env(), _directory);

        key.Key.ShouldBe("rl_from_file_0000000");
        key.Source.ShouldEndWith(Path.Combine("runledger-data", "admin.key"));
    }

    [Fact]
    public void ResolveKey_DataFlagWinsOverDataEnvironment()
    {
        WriteAdminKey("flag-data", "rl_flag_dir_00000000");
        WriteAdminKey("env-data", "rl_env_dir_000000000");

        var fromFlag = KeyResolver.ResolveKey(null, "flag-data", Env(("RUNLEDGER_DATA", "env-data")), _directory);
        var fromEnvironment = KeyResolver.ResolveKey(null, null, Env(("RUNLEDGER_DATA", "env-data")), _directory);

        fromFlag.Key.ShouldBe("rl_flag_dir_00000000");
        fromEnvironment.Key.ShouldBe("rl_env_dir_000000000");
    }

    [Fact]
    public void ResolveKey_NothingAnywhere_GivesNoKeyAndSaysWhereItLooked()
    {
        var key = KeyResolver.ResolveKey(null, null, Env(), _directory);

        key.Key.ShouldBeNull();
        key.Source.ShouldContain("admin.key");
    }

    [Fact]
    public void ResolveServer_FlagThenEnvironmentThenDefault()
    {
        KeyResolver.ResolveServer("http://a.test:1", Env(("RUNLEDGER_URL", "http://b.test:2"))).ShouldBe(new Uri("http://a.test:1"));
        KeyResolver.ResolveServer(null, Env(("RUNLEDGER_URL", "http://b.test:2"))).ShouldBe(new Uri("http://b.test:2"));
        KeyResolver.ResolveServer(null, Env()).ShouldBe(new Uri("http://127.0.0.1:5170"));
    }

    [Fact]
    public void ResolveServer_NotAnHttpUrl_IsAUsageError()
    {
        Should.Throw<CliUsageException>(() => KeyResolver.ResolveServer("ftp://x", Env()));
    }

    [Fact]
    public async Task Run_KeyFromAdminKeyFile_IsSentAsBearer()
    {
        WriteAdminKey("runledger-data", "rl_from_file_0000000");
        var handler = StubHandler.Json(System.Net.HttpStatusCode.OK, Samples.RunPage);
        var host = new TestHost { Handler = handler, CurrentDirectory = _directory };

        (await host.RunAsync("runs", "list")).ShouldBe(0);

        handler.Requests.Single().Headers.Authorization!.ToString().ShouldBe("Bearer rl_from_file_0000000");
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static Func<string, string?> Env(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    private void WriteAdminKey(string dataDirectory, string key)
    {
        var directory = Path.Combine(_directory, dataDirectory);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "admin.key"), key);
    }
}
