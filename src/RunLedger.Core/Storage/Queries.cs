using RunLedger.Core.Query;

namespace RunLedger.Core.Storage;

/// <summary>A page of runs: newest first (by start time, then id), after an optional cursor.</summary>
public sealed record RunQuery(FilterNode? Filter, int Limit, string? Cursor, bool IncludeBodies = false);

/// <summary>
/// Which of a session's top-level runs to return with it: <paramref name="Limit"/> of them, newest
/// first (by start time, then id), after an optional cursor (the previous answer's next cursor).
/// </summary>
public sealed record SessionRunsQuery(int Limit = SessionRunsQuery.DefaultLimit, string? Cursor = null)
{
    /// <summary>Top-level runs returned with a session when the caller does not say.</summary>
    public const int DefaultLimit = 50;

    /// <summary>The most runs one page may ask for (the stores read one more to know whether more follow).</summary>
    public const int MaxLimit = 100_000;

    private readonly int _limit = Checked(Limit);

    /// <summary>How many runs the page holds, 1 to <see cref="MaxLimit"/> (checked also when set with <c>with</c>).</summary>
    public int Limit
    {
        get => _limit;
        init => _limit = Checked(value);
    }

    private static int Checked(int limit) => limit is >= 1 and <= MaxLimit
        ? limit
        : throw new ArgumentOutOfRangeException(nameof(Limit), limit, $"A page holds 1 to {MaxLimit} runs.");
}

/// <summary>A page of sessions, newest first.</summary>
public sealed record SessionQuery(FilterNode? Filter, int Limit, string? Cursor);

/// <summary>
/// Stats over runs started in [From, To), grouped by dimensions (kind, name, model, provider,
/// status, user, session or metadata.KEY), optionally per interval and beside the previous period.
/// </summary>
public sealed record StatsQuery(
    FilterNode? Filter,
    IReadOnlyList<string> GroupBy,
    TimeSpan? Interval,
    DateTimeOffset From,
    DateTimeOffset To,
    bool ComparePrevious);
