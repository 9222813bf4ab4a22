namespace RunLedger.Core.Storage.Transfer;

/// <summary>A session with its running totals as the source holds them.</summary>
public sealed record SessionRecord : TransferRecord
{
    public required string Project { get; init; }

    public required string Id { get; init; }

    public string? Name { get; init; }

    public long? StartedAt { get; init; }

    public long? EndedAt { get; init; }

    public required string State { get; init; }

    /// <summary>A JSON object, as stored.</summary>
    public string? Metadata { get; init; }

    public long RunCount { get; init; }

    public long FailedCount { get; init; }

    public long InputTokens { get; init; }

    public long OutputTokens { get; init; }

    public long CostNanos { get; init; }

    public long? LastRunAt { get; init; }

    public long CreatedAt { get; init; }

    public long UpdatedAt { get; init; }
}
