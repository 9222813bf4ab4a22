using System.CommandLine;
using Microsoft.Extensions.Options;
using RunLedger.Core.Storage;
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
        var store = new Option<string?>("--store")
        {
            Description = $"The store: a SQLite file or a PostgreSQL URL or connection string [env {KeyResolver.StoreVariable}; default runledger.db in the data directory]",
            HelpName = "STORE",
        };
        var demo = new Option<bool>("--demo") { Description = "Write a demo workload on start when the ledger is empty" };

        var command = new Command("serve", "Run the RunLedger server (embedded SQLite, dashboard and API). Extra key=value arguments are passed to the server's configuration")
        {
            urls,
            store,
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
                Store = parseResult.GetValue(store) ?? NullIfEmpty(host.GetEnvironmentVariable(KeyResolver.StoreVariable)),
                Demo = parseResult.GetValue(demo),
            };
            foreach (var token in parseResult.UnmatchedTokens)
            {
                options.Arguments.Add(token);
            }

            try
            {
                return await host.RunServer(options, cancellationToken).ConfigureAwait(false);
            }
            catch (OptionsValidationException e)
            {
                // A setting a person can fix: say which, without a stack trace.
                foreach (var failure in e.Failures)
                {
                    await host.Error.WriteLineAsync("error: " + failure).ConfigureAwait(false);
                }

                return ExitCodes.Usage;
            }
            catch (StoreUnavailableException e)
            {
                // The database is down or unreachable at start: say so plainly; a supervisor restarts the server.
                await host.Error.WriteLineAsync("error: " + e.Message).ConfigureAwait(false);
                return ExitCodes.Unreachable;
            }
        });
        return command;
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
