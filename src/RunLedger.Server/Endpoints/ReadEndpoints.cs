using System.Globalization;
using RunLedger.Core.Model;
using RunLedger.Core.Query;
using RunLedger.Core.Security;
using RunLedger.Core.Storage;
using RunLedger.Server.Auth;

namespace RunLedger.Server.Endpoints;

/// <summary>Runs, sessions, events and stats of the caller's project.</summary>
internal static class ReadEndpoints
{
    private static readonly string[] Dimensions = ["kind", "name", "model", "provider", "status", "user", "session"];

    public static void MapReads(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1").RequireScope(KeyScopes.Read);
        group.MapGet("/runs", ListRunsAsync).WithName("ListRuns").WithSummary("Runs matching a filter, newest first");
        group.MapGet("/runs/{id}", GetRunAsync).WithName("GetRun").WithSummary("A run with its children and events");
        group.MapGet("/sessions", ListSessionsAsync).WithName("ListSessions").WithSummary("Sessions, newest first");
        group.MapGet("/sessions/{id}", GetSessionAsync).WithName("GetSession").WithSummary("A session with a page of its top-level runs");
        group.MapGet("/events", ListEventsAsync).WithName("ListEvents").WithSummary("Events after an id, oldest first");
        group.MapGet("/stats", StatsAsync).WithName("Stats").WithSummary("Counts, errors, tokens, cost and latency percentiles");
    }

    internal static async Task<IResult> ListRunsAsync(HttpContext http, ILedgerStore store, string? q, string? limit, string? cursor, string? include, CancellationToken cancellationToken)
    {
        var key = CallerKey.Get(http);
        if (!QueryArguments.TryParseFilter(q, FilterTarget.Runs, out var filter, out var error))
        {
            return Problems.BadRequest("invalid-filter", error!.Value.Message, "q", error.Value.Column);
        }

        if (!QueryArguments.TryParseLimit(limit, 50, out var pageSize, out var limitError))
        {
            return Problems.BadRequest("invalid-argument", limitError!, "limit");
        }

        try
        {
            var bodies = string.Equals(include, "bodies", StringComparison.OrdinalIgnoreCase);
            var page = await store.Reader.QueryRunsAsync(key.ProjectId, new RunQuery(filter, pageSize, cursor, bodies), cancellationToken).ConfigureAwait(false);
            return TypedResults.Ok(page);
        }
        catch (FormatException ex)
        {
            return Problems.BadRequest("invalid-argument", ex.Message, "cursor");
        }
    }

    internal static async Task<IResult> GetRunAsync(HttpContext http, ILedgerStore store, string id, CancellationToken cancellationToken)
    {
        var key = CallerKey.Get(http);
        if (!Guid.TryParse(id, out var runId))
        {
            return Problems.BadRequest("invalid-argument", $"'{id}' is not a run id (a UUID).", "id");
        }

        var detail = await store.Reader.GetRunAsync(key.ProjectId, runId, cancellationToken).ConfigureAwait(false);
        return detail is null ? Problems.NotFound("run", id) : TypedResults.Ok(detail);
    }

    internal static async Task<IResult> ListSessionsAsync(HttpContext http, ILedgerStore store, string? q, string? limit, string? cursor, CancellationToken cancellationToken)
    {
        var key = CallerKey.Get(http);
        if (!QueryArguments.TryParseFilter(q, FilterTarget.Sessions, out var filter, out var error))
        {
            return Problems.BadRequest("invalid-filter", error!.Value.Message, "q", error.Value.Column);
        }

        if (!QueryArguments.TryParseLimit(limit, 50, out var pageSize, out var limitError))
        {
            return Problems.BadRequest("invalid-argument", limitError!, "limit");
        }

        try
        {
            var page = await store.Reader.QuerySessionsAsync(key.ProjectId, new SessionQuery(filter, pageSize, cursor), cancellationToken).ConfigureAwait(false);
            return TypedResults.Ok(page);
        }
        catch (FormatException ex)
        {
            return Problems.BadRequest("invalid-argument", ex.Message, "cursor");
        }
    }

    internal static async Task<IResult> GetSessionAsync(HttpContext http, ILedgerStore store, string id, string? limit, string? cursor, CancellationToken cancellationToken)
    {
        var key = CallerKey.Get(http);
        if (!QueryArguments.TryParseLimit(limit, SessionRunsQuery.DefaultLimit, out var pageSize, out var limitError))
        {
            return Problems.BadRequest("invalid-argument", limitError!, "limit");
        }

        try
        {
            var detail = await store.Reader.GetSessionAsync(key.ProjectId, id, new SessionRunsQuery(pageSize, cursor), cancellationToken).ConfigureAwait(false);
            return detail is null ? Problems.NotFound("session", id) : TypedResults.Ok(detail);
        }
        catch (FormatException ex)
        {
            return Problems.BadRequest("invalid-argument", ex.Message, "cursor");
        }
    }

    internal static async Task<IResult> ListEventsAsync(HttpContext http, ILedgerStore store, string? after, string? q, string? limit, CancellationToken cancellationToken)
    {
        var key = CallerKey.Get(http);
        if (!QueryArguments.TryParseFilter(q, FilterTarget.Events, out var filter, out var error))
        {
            return Problems.BadRequest("invalid-filter", error!.Value.Message, "q", error.Value.Column);
        }

        if (!QueryArguments.TryParseLimit(limit, 100, out var pageSize, out var limitError))
        {
            return Problems.BadRequest("invalid-argument", limitError!, "limit");
        }

        long afterId = -1;
        if (!string.IsNullOrEmpty(after) && (!long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out afterId) || afterId < 0))
        {
            return Problems.BadRequest("invalid-argument", $"after: '{after}' must be an event id (a whole number, 0 for the beginning).", "after");
        }

        var events = await store.Reader.ReadEventsAsync(key.ProjectId, afterId, filter, pageSize, cancellationToken).ConfigureAwait(false);
        var lastId = events.Count > 0 ? events[^1].Id : Math.Max(afterId, 0);
        return TypedResults.Ok(new EventPage(events, lastId));
    }

    internal static async Task<IResult> StatsAsync(
        HttpContext http,
        ILedgerStore store,
        TimeProvider time,
        string? q,
        string? groupBy,
        string? interval,
        string? from,
        string? to,
        string? compare,
        CancellationToken cancellationToken)
    {
        var key = CallerKey.Get(http);
        if (!QueryArguments.TryParseFilter(q, FilterTarget.Runs, out var filter, out var error))
        {
            return Problems.BadRequest("invalid-filter", error!.Value.Message, "q", error.Value.Column);
        }

        var now = time.GetUtcNow();
        var end = now;
        if (!string.IsNullOrEmpty(to) && !QueryArguments.TryParseTime(to, now, out end))
        {
            return Problems.BadRequest("invalid-argument", $"to: '{to}' is not a time; use ISO 8601 (2026-11-01, 2026-11-01T08:00Z) or a relative time such as -1h.", "to");
        }

        var start = end - TimeSpan.FromHours(24);
        if (!string.IsNullOrEmpty(from) && !QueryArguments.TryParseTime(from, now, out start))
        {
            return Problems.BadRequest("invalid-argument", $"from: '{from}' is not a time; use ISO 8601 (2026-11-01) or a relative time such as -7d.", "from");
        }

        if (start >= end)
        {
            return Problems.BadRequest("invalid-argument", "from must be before to.", "from");
        }

        if (end - start > TimeSpan.FromDays(3660))
        {
            return Problems.BadRequest("invalid-argument", "The period is longer than ten years; narrow from/to.", "from");
        }

        TimeSpan? step = null;
        if (!string.IsNullOrEmpty(interval))
        {
            if (!QueryArguments.TryParseSpan(interval, out var span) || span < TimeSpan.FromMinutes(1))
            {
                return Problems.BadRequest("invalid-argument", $"interval: '{interval}' must be a span of at least a minute, such as 5m, 1h or 1d.", "interval");
            }

            if ((end - start) / span > 5000)
            {
                return Problems.BadRequest("invalid-argument", $"interval: {interval} over this period gives more than 5000 points; use a longer interval.", "interval");
            }

            step = span;
        }

        var dimensions = new List<string>();
        if (!string.IsNullOrWhiteSpace(groupBy))
        {
            foreach (var part in groupBy.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var known = Dimensions.Contains(part, StringComparer.Ordinal)
                    || (part.StartsWith("metadata.", StringComparison.Ordinal) && part.Length > 9 && part[9..].All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'));
                if (!known)
                {
                    return Problems.BadRequest("invalid-argument", $"groupBy: '{part}' is not a dimension; use {string.Join(", ", Dimensions)} or metadata.<key>.", "groupBy");
                }

                dimensions.Add(part);
            }

            if (dimensions.Count > 4)
            {
                return Problems.BadRequest("invalid-argument", "groupBy: at most 4 dimensions.", "groupBy");
            }
        }

        var comparePrevious = compare switch
        {
            null or "" => false,
            "previous" or "true" => true,
            _ => (bool?)null,
        };
        if (comparePrevious is null)
        {
            return Problems.BadRequest("invalid-argument", $"compare: '{compare}' is not supported; use compare=previous.", "compare");
        }

        var query = new StatsQuery(filter, dimensions, step, start, end, comparePrevious.Value);
        var result = await store.Reader.GetStatsAsync(key.ProjectId, query, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(result);
    }
}

/// <summary>A page of events and the id to pass as <c>after</c> next time.</summary>
internal sealed record EventPage(IReadOnlyList<LedgerEvent> Items, long LastId);
