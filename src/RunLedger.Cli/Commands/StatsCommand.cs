using System.CommandLine;
using RunLedger.Cli.Api;
using RunLedger.Cli.Rendering;

namespace RunLedger.Cli.Commands;

/// <summary><c>runledger stats</c>: counts, errors, tokens, cost and latency percentiles, grouped.</summary>
internal static class StatsCommand
{
    private static readonly string[] Intervals = ["5m", "15m", "1h", "6h", "1d", "7d"];

    public static Command Create(CliHost host, GlobalOptions globals)
    {
        var filter = new Option<string?>("--q", "-q") { Description = "Only runs matching this filter (docs/query.md)", HelpName = "FILTER" };
        var groupBy = new Option<string?>("--group-by", "-g")
        {
            Description = "Group by up to 4 of kind, name, model, provider, status, user, session, metadata.KEY (comma separated)",
            HelpName = "DIMS",
        };
        CommonOptions.Validate(groupBy, value => Split(value).Count > 4 ? "--group-by takes at most 4 dimensions." : null);
        var interval = new Option<string?>("--interval") { Description = "A series per group: 5m, 15m, 1h, 6h, 1d or 7d", HelpName = "SPAN" };
        interval.AcceptOnlyFromAmong(Intervals);
        var from = new Option<string?>("--from") { Description = "Start: relative (-7d) or absolute (2026-11-01); default the last 24 h", HelpName = "TIME" };
        var to = new Option<string?>("--to") { Description = "End: relative or absolute; default now", HelpName = "TIME" };
        var compare = new Option<bool>("--compare") { Description = "Show the period of the same length just before, with the change" };

        var command = new Command("stats", "Counts, error rate, tokens, cost and p50/p95/p99 latency, grouped by any dimension")
        {
            filter,
            groupBy,
            interval,
            from,
            to,
            compare,
        };
        globals.AddTo(command);

        CommandRunner.SetClientAction(command, host, globals, async (context, cancellationToken) =>
        {
            var request = new StatsRequest
            {
                Filter = context.ParseResult.GetValue(filter),
                GroupBy = Split(context.ParseResult.GetValue(groupBy)),
                Interval = context.ParseResult.GetValue(interval),
                From = NormalizeTime(context.ParseResult.GetValue(from)),
                To = NormalizeTime(context.ParseResult.GetValue(to)),
                ComparePrevious = context.ParseResult.GetValue(compare),
            };
            var stats = await context.Client.GetStatsAsync(request, cancellationToken).ConfigureAwait(false);
            if (context.Json)
            {
                context.WriteJson(stats);
                return ExitCodes.Ok;
            }

            StatsRenderer.Render(context.Console, stats);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>A bare look-back such as <c>7d</c> means the past (<c>-7d</c>); anything else goes to the server as typed.</summary>
    internal static string? NormalizeTime(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        return Format.TryParseLookBack(text, out var relative, out _) ? relative : text.Trim();
    }

    private static List<string> Split(string? text) =>
        string.IsNullOrWhiteSpace(text)
            ? []
            : text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
}
