using System.CommandLine;
using RunLedger.Cli.Rendering;
using RunLedger.Core.Model;

namespace RunLedger.Cli.Commands;

/// <summary><c>runledger events tail</c>: the newest events, and with <c>--follow</c> the live stream.</summary>
internal static class EventsCommands
{
    public static Command Create(CliHost host, GlobalOptions globals)
    {
        var command = new Command("events", "Read the event log");
        globals.AddTo(command);
        command.Subcommands.Add(CreateTail(host, globals));
        return command;
    }

    private static Command CreateTail(CliHost host, GlobalOptions globals)
    {
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new events as they are committed, until Ctrl+C (reconnects by itself)" };
        var filter = new Option<string?>("--q", "-q") { Description = "Only events matching this filter (docs/query.md)", HelpName = "FILTER" };
        var after = new Option<long?>("--after") { Description = "Start after this event id (oldest first) instead of the newest events", HelpName = "ID" };
        var limit = CommonOptions.Limit(20, 1000, "How many events to print first (0 with --follow prints only new ones)", min: 0);
        var command = new Command("tail", "Print the newest events; --follow streams new ones as they happen") { follow, filter, after, limit };

        CommandRunner.SetClientAction(command, host, globals, async (context, cancellationToken) =>
        {
            var query = context.ParseResult.GetValue(filter);
            var afterId = context.ParseResult.GetValue(after);
            var count = context.ParseResult.GetValue(limit);
            var printer = new EventPrinter(context);

            long? lastId = afterId;
            if (count > 0 || !context.ParseResult.GetValue(follow))
            {
                var page = await context.Client.ListEventsAsync(afterId, query, Math.Max(count, 1), cancellationToken).ConfigureAwait(false);
                foreach (var ledgerEvent in page.Items.Take(count))
                {
                    printer.Print(ledgerEvent);
                }

                lastId = page.LastId ?? (page.Items.Count > 0 ? page.Items.Max(e => e.Id) : afterId);
            }

            if (!context.ParseResult.GetValue(follow))
            {
                return ExitCodes.Ok;
            }

            if (!context.Json)
            {
                host.Error.WriteLine($"Following {context.Server} (Ctrl+C to stop) ...");
            }

            try
            {
                var events = context.Client.StreamEventsAsync(
                    query,
                    lastId,
                    (error, delay) => host.Error.WriteLine($"Stream dropped ({error.Message}); reconnecting in {Format.Span(delay)} ..."),
                    cancellationToken);
                await foreach (var ledgerEvent in events.ConfigureAwait(false))
                {
                    printer.Print(ledgerEvent);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Ctrl+C is how a follow ends: not an error.
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>One line per event (greppable), or JSON Lines with --json.</summary>
    private sealed class EventPrinter(CommandContext context)
    {
        public void Print(LedgerEvent ledgerEvent)
        {
            if (context.Json)
            {
                context.WriteJsonLine(ledgerEvent);
                return;
            }

            context.Host.Output.WriteLine(EventLine.Format(ledgerEvent));
            context.Host.Output.Flush();
        }
    }
}
