using RunLedger.Core.Model;
using RunLedger.Core.Query;

namespace RunLedger.Core.Storage;

/// <summary>The read side. Every call is scoped to one project.</summary>
public interface ILedgerReader
{
    Task<Page<Run>> QueryRunsAsync(long projectId, RunQuery query, CancellationToken cancellationToken);

    Task<RunDetail?> GetRunAsync(long projectId, Guid id, CancellationToken cancellationToken);

    Task<Page<Session>> QuerySessionsAsync(long projectId, SessionQuery query, CancellationToken cancellationToken);

    /// <summary>A session with the page of its top-level runs <paramref name="runs"/> asks for; null when there is no such session.</summary>
    Task<SessionDetail?> GetSessionAsync(long projectId, string id, SessionRunsQuery runs, CancellationToken cancellationToken);

    /// <summary>A session with its newest <see cref="SessionRunsQuery.DefaultLimit"/> top-level runs.</summary>
    Task<SessionDetail?> GetSessionAsync(long projectId, string id, CancellationToken cancellationToken) =>
        GetSessionAsync(projectId, id, new SessionRunsQuery(), cancellationToken);

    /// <summary>
    /// Events with an id greater than <paramref name="afterId"/>, oldest first, at most
    /// <paramref name="limit"/>. A negative <paramref name="afterId"/> asks for the newest
    /// <paramref name="limit"/> events, still oldest first.
    /// </summary>
    Task<IReadOnlyList<LedgerEvent>> ReadEventsAsync(long projectId, long afterId, FilterNode? filter, int limit, CancellationToken cancellationToken);

    /// <summary>The newest event id of the project (0 when there is none).</summary>
    Task<long> GetLastEventIdAsync(long projectId, CancellationToken cancellationToken);

    Task<StatsResult> GetStatsAsync(long projectId, StatsQuery query, CancellationToken cancellationToken);

    /// <summary>True when the database answers.</summary>
    Task<bool> PingAsync(CancellationToken cancellationToken);
}
