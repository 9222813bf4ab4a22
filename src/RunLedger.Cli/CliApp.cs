using System.CommandLine;
using RunLedger.Cli.Commands;
using RunLedger.Cli.Transfer;

namespace RunLedger.Cli;

/// <summary>The <c>runledger</c> command tree and its entry point.</summary>
internal static class CliApp
{
    public static RootCommand BuildRootCommand(CliHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var globals = new GlobalOptions();
        var root = new RootCommand("RunLedger: a flight recorder for AI agents and LLM pipelines.")
        {
            ServeCommand.Create(host, globals),
            StatusCommand.Create(host, globals),
            RunsCommands.Create(host, globals),
            SessionsCommands.Create(host, globals),
            StatsCommand.Create(host, globals),
            EventsCommands.Create(host, globals),
            KeysCommands.Create(host, globals),
            ProjectsCommands.Create(host, globals),
            DemoCommand.Create(host, globals),
            MigrateCommand.Create(host),
            BackupCommand.Create(host, StoreOption(), globals.Data),
            RestoreCommand.Create(host, StoreOption(), globals.Data),
        };
        return root;
    }

    /// <summary>The <c>--store</c> of commands that open the store in this process, defaulting like <c>serve</c>.</summary>
    private static Option<string?> StoreOption() => new("--store")
    {
        Description = $"The store: a SQLite file or a PostgreSQL URL or connection string [env {KeyResolver.StoreVariable}; default runledger.db in the data directory]",
        HelpName = "STORE",
    };

    /// <summary>Parses and runs <paramref name="args"/>. Parse errors print help on stderr and return <see cref="ExitCodes.Usage"/>.</summary>
    public static async Task<int> RunAsync(string[] args, CliHost host, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        var root = BuildRootCommand(host);
        var parseResult = root.Parse(args);
        var configuration = new InvocationConfiguration
        {
            Output = host.Output,
            Error = host.Error,
        };

        var exitCode = await parseResult.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
        return parseResult.Errors.Count > 0 && parseResult.Action is System.CommandLine.Invocation.ParseErrorAction
            ? ExitCodes.Usage
            : exitCode;
    }
}
