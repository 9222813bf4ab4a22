namespace RunLedger.Core.Model;

/// <summary>A run as stored: the unit of work (an LLM call, a tool call, an agent step ...).</summary>
public sealed record Run
{
    public required Guid Id { get; init; }

    public string? SessionId { get; init; }

    public Guid? ParentId { get; init; }

    public required string Kind { get; init; }

    public string? Name { get; init; }

    public required string Status { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset? EndedAt { get; init; }

    public double? DurationMs { get; init; }

    public string? Model { get; init; }

    public string? Provider { get; init; }

    public RawJson? Parameters { get; init; }

    public RawJson? Input { get; init; }

    public RawJson? Output { get; init; }

    public RunError? Error { get; init; }

    public required Usage Usage { get; init; }

    public decimal? CostUsd { get; init; }

    public IReadOnlyList<string> Tags { get; init; } = [];

    public RawJson? Metadata { get; init; }

    public string? UserId { get; init; }

    public required string Source { get; init; }

    public bool Pinned { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Size and hash of the stored input and output bodies (absent in list views).</summary>
    public PayloadInfo? InputInfo { get; init; }

    public PayloadInfo? OutputInfo { get; init; }
}
