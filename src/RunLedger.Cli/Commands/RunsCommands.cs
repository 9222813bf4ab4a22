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

    private static Command CreateList(CliHost host, GlobalOptions globals) => ListCommand.Create(
        host,
        globals,
        ("runs", "run"),
        defaultLimit: 50,
        "List runs newest first, optionally filtered",
        (context, query, size, after, cancellationToken) => context.Client.ListRunsAsync(query, size, after, cancellationToken),
        (context, items) => RunRenderer.RenderList(context.Console, items, context.Now));

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
