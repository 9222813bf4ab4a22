namespace RunLedger.Core.Storage.Transfer;

/// <summary>A run row with its input and output bodies, as stored.</summary>
public sealed record RunRecord : TransferRecord
{
    public required string Project { get; init; }

    public required Guid Id { get; init; }

    public string? SessionId { get; init; }

    public Guid? ParentId { get; init; }

    public required string Kind { get; init; }

    public string? Name { get; init; }

    public required string Status { get; init; }

    public long StartedAt { get; init; }

    public long? EndedAt { get; init; }

    public string? Model { get; init; }

    public string? Provider { get; init; }

    /// <summary>JSON text, as stored.</summary>
    public string? Parameters { get; init; }

    public PayloadRecord? Input { get; init; }

    public PayloadRecord? Output { get; init; }

    public string? ErrorType { get; init; }

    public string? ErrorMessage { get; init; }

    public string? ErrorStack { get; init; }

    public long? InputTokens { get; init; }

    public long? OutputTokens { get; init; }

    public long? CachedTokens { get; init; }

    public long? ReasoningTokens { get; init; }

    public long? CostNanos { get; init; }

    /// <summary>A JSON array of strings, as stored.</summary>
    public string? Tags { get; init; }

    /// <summary>A JSON object, as stored.</summary>
    public string? Metadata { get; init; }

    public string? UserId { get; init; }

    public required string Source { get; init; }

    public bool Pinned { get; init; }

    public long CreatedAt { get; init; }

    public long UpdatedAt { get; init; }
}
