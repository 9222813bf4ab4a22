namespace RunLedger.Core.Storage;

/// <summary>
/// A run as the stores keep it (times in microseconds, cost in nano-dollars, bodies by hash or by payload row), the
/// shape the writers merge writes into and the readers turn into a <see cref="Model.Run"/>.
/// </summary>
public sealed class RunRow
{
    /// <summary>The store's own row key (SQLite: the rowid the full-text index refers to); 0 when it has none.</summary>
    public long Seq { get; set; }

    public Guid Id { get; set; }

    public string? SessionId { get; set; }

    public Guid? ParentId { get; set; }

    public string Kind { get; set; } = "custom";

    public string? Name { get; set; }

    public string Status { get; set; } = "running";

    public long StartedAt { get; set; }

    public long? EndedAt { get; set; }

    public long? DurationUs => EndedAt is { } ended ? Math.Max(0, ended - StartedAt) : null;

    public string? Model { get; set; }

    public string? Provider { get; set; }

    public string? Parameters { get; set; }

    public byte[]? InputHash { get; set; }

    public byte[]? OutputHash { get; set; }

    /// <summary>The input body's row in a store that refers to bodies by row id (SQLite) instead of by <see cref="InputHash"/>.</summary>
    public long? InputPayload { get; set; }

    /// <summary>The output body's row in a store that refers to bodies by row id (SQLite) instead of by <see cref="OutputHash"/>.</summary>
    public long? OutputPayload { get; set; }

    public string? ErrorType { get; set; }

    public string? ErrorMessage { get; set; }

    public string? ErrorStack { get; set; }

    public long? InputTokens { get; set; }

    public long? OutputTokens { get; set; }

    public long? CachedTokens { get; set; }

    public long? ReasoningTokens { get; set; }

    public long TotalTokens => (InputTokens ?? 0) + (OutputTokens ?? 0);

    public long? CostNanos { get; set; }

    public string? Tags { get; set; }

    public string? Metadata { get; set; }

    public string? UserId { get; set; }

    public string Source { get; set; } = "api";

    public bool Pinned { get; set; }

    public long CreatedAt { get; set; }

    public long UpdatedAt { get; set; }

    public RunRow Clone() => (RunRow)MemberwiseClone();
}
