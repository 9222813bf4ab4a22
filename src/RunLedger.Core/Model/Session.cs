namespace RunLedger.Core.Model;

/// <summary>A group of runs with running totals kept in the same transaction as the runs.</summary>
public sealed record Session
{
    public required string Id { get; init; }

    public string? Name { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? EndedAt { get; init; }

    public required string State { get; init; }

    public RawJson? Metadata { get; init; }

    public long RunCount { get; init; }

    public long FailedCount { get; init; }

    public long InputTokens { get; init; }

    public long OutputTokens { get; init; }

    public decimal CostUsd { get; init; }

    public DateTimeOffset? LastRunAt { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }
}
