using System.CommandLine;
using RunLedger.Cli.Rendering;
using RunLedger.Core.Model;
using Spectre.Console;

namespace RunLedger.Cli.Commands;

/// <summary><c>runledger sessions list|show</c>.</summary>
internal static class SessionsCommands
{
    public static Command Create(CliHost host, GlobalOptions globals)
    {
        var command = new Command("sessions", "List sessions and show one session with its runs");
        globals.AddTo(command);
        command.Subcommands.Add(CreateList(host, globals));
        command.Subcommands.Add(CreateShow(host, globals));
        return command;
    }

    private static Command CreateList(CliHost host, GlobalOptions globals) => ListCommand.Create(
        host,
        globals,
        ("sessions", "session"),
        defaultLimit: 30,
        "List sessions newest first, with their totals",
        (context, query, size, after, cancellationToken) => context.Client.ListSessionsAsync(query, size, after, cancellationToken),
        (context, items) => SessionRenderer.RenderList(context.Console, items, context.Now));

    private static Command CreateShow(CliHost host, GlobalOptions globals)
    {
        var id = new Argument<string>("id") { Description = "The session id" };
        var command = new Command("show", "Show one session: totals, runs by status and its top-level runs") { id };

        CommandRunner.SetClientAction(command, host, globals, async (context, cancellationToken) =>
        {
            var detail = await context.Client.GetSessionAsync(context.ParseResult.GetValue(id)!, cancellationToken).ConfigureAwait(false);
            if (context.Json)
            {
                context.WriteJson(detail);
                return ExitCodes.Ok;
            }

            SessionRenderer.RenderDetail(context.Console, detail, context.Now);
            return ExitCodes.Ok;
        });
        return command;
    }
}
