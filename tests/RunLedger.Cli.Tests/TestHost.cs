using RunLedger.Server;

namespace RunLedger.Cli.Tests;

/// <summary>A CLI host over string writers, a fixed clock, a fake environment and canned HTTP answers.</summary>
internal sealed class TestHost
{
    public static readonly DateTimeOffset Now = new(2026, 11, 22, 8, 0, 0, TimeSpan.Zero);

    public StringWriter Output { get; } = new();

    public StringWriter Error { get; } = new();

    public Dictionary<string, string> Environment { get; } = [];

    public HttpMessageHandler? Handler { get; set; }

    public string CurrentDirectory { get; set; } = Path.GetTempPath();

    public ServerOptions? ServedWith { get; private set; }

    /// <summary>The clock the CLI sees; a fixed time unless a test talks to a real server.</summary>
    public TimeProvider Time { get; set; } = new FixedTime(Now);

    public CliHost Build() => new()
    {
        Output = Output,
        Error = Error,
        Console = ConsoleFactory.Create(Output, interactive: false, color: false, width: 160),
        GetEnvironmentVariable = name => Environment.TryGetValue(name, out var value) ? value : null,
        CurrentDirectory = CurrentDirectory,
        Time = Time,
        HttpHandler = Handler,
        RunServer = (options, _) =>
        {
            ServedWith = options;
            return Task.FromResult(0);
        },
    };

    public Task<int> RunAsync(params string[] args) => CliApp.RunAsync(args, Build(), TestContext.Current.CancellationToken);

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
