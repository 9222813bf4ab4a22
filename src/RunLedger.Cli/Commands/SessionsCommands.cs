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

    private static Command CreateList(CliHost host, GlobalOptions globals)
    {
        var filter = CommonOptions.FilterWords();
        var limit = CommonOptions.Limit(30, 100_000, "How many sessions to show, newest first");
        var all = new Option<bool>("--all") { Description = "Follow the pages to the last matching session (ignores --limit)" };
        var command = new Command("list", "List sessions newest first, with their totals") { filter, limit, all };

        CommandRunner.SetClientAction(command, host, globals, async (context, cancellationToken) =>
        {
            var query = CommonOptions.JoinFilter(context.ParseResult.GetValue(filter));
            int? max = context.ParseResult.GetValue(all) ? null : context.ParseResult.GetValue(limit);
            var collected = await Paging.CollectAsync((size, after) => context.Client.ListSessionsAsync(query, size, after, cancellationToken), max).ConfigureAwait(false);
            var sessions = collected.Items;
            var cursor = collected.NextCursor;

            if (context.Json)
            {
                context.WriteJson(collected);
                return ExitCodes.Ok;
            }

            SessionRenderer.RenderList(context.Console, sessions, context.Now);
            if (cursor is not null)
            {
                context.Console.WriteLine("More sessions match; add --all or a larger --limit to see them.");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

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
