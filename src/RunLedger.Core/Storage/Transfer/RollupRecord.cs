namespace RunLedger.Core.Storage.Transfer;

/// <summary>
/// One pre-aggregated bucket, copied as is: rollups outlive the runs they summarize, so they
/// move with the store instead of being recomputed from the runs that remain.
/// </summary>
public sealed record RollupRecord : TransferRecord
{
    public required string Project { get; init; }

    /// <summary>The bucket size in seconds (300 or 86400).</summary>
    public long BucketSize { get; init; }

    public long BucketStart { get; init; }

    public required string Kind { get; init; }

    /// <summary>The run name, or an empty string.</summary>
    public required string Name { get; init; }

    /// <summary>The model, or an empty string.</summary>
    public required string Model { get; init; }

    public required string Status { get; init; }

    public long Count { get; init; }

    public long Errors { get; init; }

    public long InputTokens { get; init; }

    public long OutputTokens { get; init; }

    public long CostNanos { get; init; }

    public long DurationCount { get; init; }

    public long DurationSum { get; init; }

    public long? DurationMin { get; init; }

    public long? DurationMax { get; init; }

    /// <summary>The <see cref="Rollups.LatencyHistogram"/> bytes, or null when empty.</summary>
    public byte[]? Histogram { get; init; }
}
