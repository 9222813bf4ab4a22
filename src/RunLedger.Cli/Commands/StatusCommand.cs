using System.CommandLine;
using System.Globalization;
using System.Net;
using RunLedger.Cli.Api;
using RunLedger.Cli.Rendering;
using RunLedger.Core.Model;

namespace RunLedger.Cli.Commands;

/// <summary><c>runledger status</c>: what happened while you were away.</summary>
internal static class StatusCommand
{
    internal const int FailuresShown = 10;
    internal const int SlowestShown = 5;
    internal const int SessionsShown = 15;

    public static Command Create(CliHost host, GlobalOptions globals)
    {
        var since = new Option<string>("--since", "-s")
        {
            Description = "How far back to look: 30m, 12h, 2d, 1w",
            DefaultValueFactory = _ => "12h",
            HelpName = "SPAN",
        };
        CommonOptions.Validate(since, value => Format.TryParseLookBack(value, out _, out _) ? null : "--since takes a span such as 30m, 12h, 2d or 1w.");
        var command = new Command("status", "What happened while you were away: sessions, runs by status, failures, cost, slowest runs") { since };
        globals.AddTo(command);

        CommandRunner.SetClientAction(command, host, globals, async (context, cancellationToken) =>
        {
            var report = await BuildAsync(context.Client, context.ParseResult.GetValue(since)!, cancellationToken).ConfigureAwait(false);
            if (context.Json)
            {
                context.WriteJson(report);
                return ExitCodes.Ok;
            }

            StatusRenderer.Render(context.Console, report, context.Now);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Gathers the report: stats by status and by model, sessions and failures in parallel, then the slowest runs.</summary>
    public static async Task<StatusReport> BuildAsync(LedgerClient client, string since, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        if (!Format.TryParseLookBack(since, out var relative, out _))
        {
            throw new CliUsageException($"--since '{since}' is not a span such as 30m, 12h, 2d or 1w.");
        }

        var window = "started>" + relative;
        var byStatusTask = client.GetStatsAsync(new StatsRequest { From = relative, GroupBy = ["status"] }, cancellationToken);
        var byModelTask = client.GetStatsAsync(new StatsRequest { From = relative, GroupBy = ["model"] }, cancellationToken);
        var sessionsTask = client.ListSessionsAsync(window, SessionsShown + 1, null, cancellationToken);
        var failedTask = client.ListRunsAsync(CommonOptions.And("status:failed", window), FailuresShown, null, cancellationToken);
        var timeoutTask = client.ListRunsAsync(CommonOptions.And("status:timeout", window), FailuresShown, null, cancellationToken);
        await Task.WhenAll(byStatusTask, byModelTask, sessionsTask, failedTask, timeoutTask).ConfigureAwait(false);

        var byStatus = await byStatusTask.ConfigureAwait(false);
        var byModel = await byModelTask.ConfigureAwait(false);
        var sessions = await sessionsTask.ConfigureAwait(false);
        var failed = await failedTask.ConfigureAwait(false);
        var timedOut = await timeoutTask.ConfigureAwait(false);
        var slowest = await FindSlowestAsync(client, window, byStatus.Total.P95Ms, byStatus.Total.Count, cancellationToken).ConfigureAwait(false);

        return new StatusReport
        {
            Since = since,
            Server = client.BaseAddress,
            From = byStatus.From,
            To = byStatus.To,
            Total = byStatus.Total,
            ByStatus = byStatus.Groups
                .Select(g => new StatusCount(g.Key.TryGetValue("status", out var s) ? s ?? "unknown" : "unknown", g.Figures.Count))
                .OrderByDescending(s => s.Count)
                .ToList(),
            ByModel = byModel.Groups.OrderByDescending(g => g.Figures.CostUsd).ThenByDescending(g => g.Figures.Count).ToList(),
            Sessions = sessions.Items.Take(SessionsShown).ToList(),
            MoreSessions = sessions.Items.Count > SessionsShown || sessions.NextCursor is not null,
            Failures = failed.Items.Concat(timedOut.Items)
                .OrderByDescending(r => r.StartedAt)
                .Take(FailuresShown)
                .ToList(),
            Slowest = slowest,
        };
    }

    /// <summary>
    /// The slowest runs of the window. Asks only for runs at or above the window's p95
    /// (<c>duration&gt;=…ms</c>), so a handful come back however many ran; if the server does not
    /// take that filter, it falls back to scanning the newest 1000 runs.
    /// </summary>
    private static async Task<IReadOnlyList<Run>> FindSlowestAsync(LedgerClient client, string window, double? p95Ms, long count, CancellationToken cancellationToken)
    {
        if (count == 0)
        {
            return [];
        }

        IEnumerable<Run> candidates;
        try
        {
            var threshold = p95Ms is { } p95 && count > 50 ? " duration>=" + Math.Floor(p95 * 0.98).ToString("0", CultureInfo.InvariantCulture) + "ms" : string.Empty;
            candidates = (await client.ListRunsAsync(window + threshold, 1000, null, cancellationToken).ConfigureAwait(false)).Items;
        }
        catch (LedgerApiException ex) when (ex.Status == HttpStatusCode.BadRequest)
        {
            candidates = (await client.ListRunsAsync(window, 1000, null, cancellationToken).ConfigureAwait(false)).Items;
        }

        return candidates
            .Where(r => r.DurationMs is not null)
            .OrderByDescending(r => r.DurationMs)
            .Take(SlowestShown)
            .ToList();
    }
}
