using RunLedger.Server;
using Spectre.Console;

namespace RunLedger.Cli;

/// <summary>
/// Everything a command touches outside itself: the console, the environment, the clock, the
/// network and the server host. Tests build one over string writers and canned HTTP answers.
/// </summary>
internal sealed class CliHost
{
    /// <summary>Standard output as plain text: JSON and other machine-readable output go here unwrapped.</summary>
    public required TextWriter Output { get; init; }

    /// <summary>Standard error as plain text.</summary>
    public required TextWriter Error { get; init; }

    /// <summary>Standard output for tables and panels (no color or ANSI codes when it is redirected).</summary>
    public required IAnsiConsole Console { get; init; }

    public Func<string, string?> GetEnvironmentVariable { get; init; } = Environment.GetEnvironmentVariable;

    public string CurrentDirectory { get; init; } = Directory.GetCurrentDirectory();

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Replaces the network when set (tests); owned by whoever made the host.</summary>
    public HttpMessageHandler? HttpHandler { get; init; }

    /// <summary>Starts the server for <c>runledger serve</c>.</summary>
    public Func<ServerOptions, CancellationToken, Task<int>> RunServer { get; init; } = LedgerServer.RunAsync;

    /// <summary>The host of a real process: the process's console, environment and network.</summary>
    public static CliHost CreateDefault()
    {
        var output = System.Console.Out;
        var redirected = System.Console.IsOutputRedirected;
        var noColor = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        return new CliHost
        {
            Output = output,
            Error = System.Console.Error,
            Console = ConsoleFactory.Create(output, interactive: !redirected, color: !redirected && !noColor, width: redirected ? 140 : null),
        };
    }
}
