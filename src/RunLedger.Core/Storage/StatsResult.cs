namespace RunLedger.Core.Storage;

/// <summary>The answer to a stats query.</summary>
public sealed record StatsResult
{
    public required DateTimeOffset From { get; init; }

    public required DateTimeOffset To { get; init; }

    public string? Interval { get; init; }

    public required IReadOnlyList<string> GroupBy { get; init; }

    public required StatsFigures Total { get; init; }

    public StatsFigures? PreviousTotal { get; init; }

    public required IReadOnlyList<StatsGroup> Groups { get; init; }

    /// <summary>
    /// "rollups" when answered from the pre-aggregated buckets, "runs" when from the rows,
    /// "rollups+runs" when whole buckets answered the inside of the window and the rows its
    /// ragged edges (the figures are the same either way).
    /// </summary>
    public required string Source { get; init; }
}

/// <summary>The figures of one group, with its series per interval and the previous period when asked.</summary>
public sealed record StatsGroup
{
    public required IReadOnlyDictionary<string, string?> Key { get; init; }

    public required StatsFigures Figures { get; init; }

    public StatsFigures? Previous { get; init; }

    public IReadOnlyList<StatsPoint>? Series { get; init; }
}

/// <summary>Figures for one interval.</summary>
public sealed record StatsPoint(DateTimeOffset Start, StatsFigures Figures);

/// <summary>Count, errors, tokens, cost and duration percentiles (milliseconds) of a set of runs.</summary>
public sealed record StatsFigures
{
    public long Count { get; init; }

    public long Errors { get; init; }

    public double ErrorRate => Count == 0 ? 0 : (double)Errors / Count;

    public long InputTokens { get; init; }

    public long OutputTokens { get; init; }

    public decimal CostUsd { get; init; }

    public double? AvgMs { get; init; }

    public double? P50Ms { get; init; }

    public double? P95Ms { get; init; }

    public double? P99Ms { get; init; }

    public double? MaxMs { get; init; }
}
