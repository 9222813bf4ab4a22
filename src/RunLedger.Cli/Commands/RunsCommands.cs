using System.CommandLine;
using RunLedger.Cli.Rendering;
using RunLedger.Core.Model;
using Spectre.Console;

namespace RunLedger.Cli.Commands;

/// <summary><c>runledger runs list|show</c>.</summary>
internal static class RunsCommands
{
    public static Command Create(CliHost host, GlobalOptions globals)
    {
        var command = new Command("runs", "List runs and show one run in detail");
        globals.AddTo(command);
        command.Subcommands.Add(CreateList(host, globals));
        command.Subcommands.Add(CreateShow(host, globals));
        return command;
    }

    private static Command CreateList(CliHost host, GlobalOptions globals)
    {
        var filter = CommonOptions.FilterWords();
        var limit = CommonOptions.Limit(50, 100_000, "How many runs to show, newest first");
        var all = new Option<bool>("--all") { Description = "Follow the pages to the last matching run (ignores --limit)" };
        var command = new Command("list", "List runs newest first, optionally filtered") { filter, limit, all };

        CommandRunner.SetClientAction(command, host, globals, async (context, cancellationToken) =>
        {
            var query = CommonOptions.JoinFilter(context.ParseResult.GetValue(filter));
            int? max = context.ParseResult.GetValue(all) ? null : context.ParseResult.GetValue(limit);
            var collected = await Paging.CollectAsync((size, after) => context.Client.ListRunsAsync(query, size, after, cancellationToken), max).ConfigureAwait(false);
            var runs = collected.Items;
            var cursor = collected.NextCursor;

            if (context.Json)
            {
                context.WriteJson(collected);
                return ExitCodes.Ok;
            }

            RunRenderer.RenderList(context.Console, runs, context.Now);
            if (cursor is not null)
            {
                context.Console.WriteLine("More runs match; add --all or a larger --limit to see them.");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command CreateShow(CliHost host, GlobalOptions globals)
    {
        var id = new Argument<string>("id") { Description = "The run id" };
        var full = new Option<bool>("--full") { Description = "Print input, output, error stack and events in full (no truncation)" };
        var command = new Command("show", "Show one run: its fields, input and output, children and events") { id, full };

        CommandRunner.SetClientAction(command, host, globals, async (context, cancellationToken) =>
        {
            var detail = await context.Client.GetRunAsync(context.ParseResult.GetValue(id)!, cancellationToken).ConfigureAwait(false);
            if (context.Json)
            {
                context.WriteJson(detail);
                return ExitCodes.Ok;
            }

            RunRenderer.RenderDetail(context.Console, detail, context.Now, context.ParseResult.GetValue(full));
            return ExitCodes.Ok;
        });
        return command;
    }
}
