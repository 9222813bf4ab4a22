using System.CommandLine;
using RunLedger.Cli.Rendering;
using RunLedger.Core.Model;
using RunLedger.Core.Storage;
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
        var limit = CommonOptions.Limit(SessionRunsQuery.DefaultLimit, 100_000, "How many top-level runs to show, newest first");
        var all = new Option<bool>("--all") { Description = "Show every top-level run of the session (ignores --limit)" };
        var command = new Command("show", "Show one session: totals, runs by status and its top-level runs") { id, limit, all };

        CommandRunner.SetClientAction(command, host, globals, async (context, cancellationToken) =>
        {
            // The first page brings the session and its counts; further pages only add runs.
            SessionDetail? first = null;
            int? max = context.ParseResult.GetValue(all) ? null : context.ParseResult.GetValue(limit);
            var runs = await Paging.CollectAsync(
                async (size, after) =>
                {
                    var page = await context.Client.GetSessionAsync(context.ParseResult.GetValue(id)!, size, after, cancellationToken).ConfigureAwait(false);
                    first ??= page;
                    return new Page<Run>(page.Runs, page.NextCursor);
                },
                max).ConfigureAwait(false);
            var detail = first! with { Runs = runs.Items, NextCursor = runs.NextCursor };
            if (context.Json)
            {
                context.WriteJson(detail);
                return ExitCodes.Ok;
            }

            SessionRenderer.RenderDetail(context.Console, detail, context.Now);
            if (detail.NextCursor is not null)
            {
                context.Console.WriteLine("More top-level runs; add --all or a larger --limit to see them.");
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
