using System.CommandLine;
using RunLedger.Server;

namespace RunLedger.Cli.Commands;

/// <summary><c>runledger serve</c>: hosts the server in this process.</summary>
internal static class ServeCommand
{
    public static Command Create(CliHost host, GlobalOptions globals)
    {
        var urls = new Option<string>("--urls")
        {
            Description = "The addresses to listen on (separate several with ';')",
            DefaultValueFactory = _ => KeyResolver.DefaultServer,
            HelpName = "URLS",
        };
        var demo = new Option<bool>("--demo") { Description = "Write a demo workload on start when the ledger is empty" };

        var command = new Command("serve", "Run the RunLedger server (embedded SQLite, dashboard and API). Extra key=value arguments are passed to the server's configuration")
        {
            urls,
            demo,
        };
        command.Options.Add(globals.Data);
        command.TreatUnmatchedTokensAsErrors = false;

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var options = new ServerOptions
            {
                DataDirectory = KeyResolver.ResolveDataDirectory(parseResult.GetValue(globals.Data), host.GetEnvironmentVariable, host.CurrentDirectory),
                Urls = parseResult.GetValue(urls) ?? KeyResolver.DefaultServer,
                Demo = parseResult.GetValue(demo),
            };
            foreach (var token in parseResult.UnmatchedTokens)
            {
                options.Arguments.Add(token);
            }

            return await host.RunServer(options, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }
}
