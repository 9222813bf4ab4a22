using System.CommandLine;

namespace RunLedger.Cli.Commands;

/// <summary>The options every client command takes: where the server is, which key, and JSON output.</summary>
internal sealed class GlobalOptions
{
    public Option<string?> Server { get; } = new("--server")
    {
        Description = $"The RunLedger server [env {KeyResolver.ServerVariable}; default {KeyResolver.DefaultServer}]",
        HelpName = "URL",
        Recursive = true,
    };

    public Option<string?> Key { get; } = new("--key")
    {
        Description = $"The API key [env {KeyResolver.KeyVariable}; default: the admin.key file in the data directory]",
        HelpName = "KEY",
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print the server's answer as indented JSON instead of tables (for scripts)",
        Recursive = true,
    };

    /// <summary>The data directory: where <c>serve</c> keeps its files and where client commands look for admin.key.</summary>
    public Option<string?> Data { get; } = new("--data")
    {
        Description = $"The data directory [env {KeyResolver.DataVariable}; default ./{KeyResolver.DefaultDataDirectory}]",
        HelpName = "DIR",
        Recursive = true,
    };

    /// <summary>Adds the client options to a top-level command and, recursively, its subcommands.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(Server);
        command.Options.Add(Key);
        command.Options.Add(Json);
        command.Options.Add(Data);
    }
}
