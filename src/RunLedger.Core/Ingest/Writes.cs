using RunLedger.Core.Model;

namespace RunLedger.Core.Ingest;

/// <summary>
/// A validated run write. Null means "not sent": the stored value stays. Bodies are raw JSON text.
/// </summary>
public sealed record RunWrite
{
    public required Guid Id { get; init; }

    /// <summary>Where the item stood in its request (for rejections); -1 when not from a request.</summary>
    public int Index { get; init; } = -1;

    public string? SessionId { get; init; }

    public Guid? ParentId { get; init; }

    public RunKind? Kind { get; init; }

    public string? Name { get; init; }

    public RunStatus? Status { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? EndedAt { get; init; }

    public string? Model { get; init; }

    public string? Provider { get; init; }

    public RawJson? Parameters { get; init; }

    public RawJson? Input { get; init; }

    public RawJson? Output { get; init; }

    public RunError? Error { get; init; }

    public Usage? Usage { get; init; }

    public decimal? CostUsd { get; init; }

    public IReadOnlyList<string>? Tags { get; init; }

    public RawJson? Metadata { get; init; }

    public string? UserId { get; init; }
}

/// <summary>A validated event write.</summary>
public sealed record EventWrite
{
    public required string Type { get; init; }

    public required DateTimeOffset Time { get; init; }

    public string? SessionId { get; init; }

    public Guid? RunId { get; init; }

    public string? Name { get; init; }

    public RawJson? Data { get; init; }

    public string? IdempotencyKey { get; init; }
}

/// <summary>A validated session write. Null means "not sent".</summary>
public sealed record SessionWrite
{
    public required string Id { get; init; }

    public string? Name { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? EndedAt { get; init; }

    public string? State { get; init; }

    public RawJson? Metadata { get; init; }
}

/// <summary>
/// One request's validated items, written atomically (all of the batch or none of it) by the
/// store, possibly in one transaction with other batches (group commit).
/// </summary>
public sealed record WriteBatch
{
    public required long ProjectId { get; init; }

    public required string Source { get; init; }

    /// <summary>When the request arrived; the default start time of a new run or session.</summary>
    public required DateTimeOffset ReceivedAt { get; init; }

    public IReadOnlyList<SessionWrite> Sessions { get; init; } = [];

    public IReadOnlyList<RunWrite> Runs { get; init; } = [];

    public IReadOnlyList<EventWrite> Events { get; init; } = [];

    /// <summary>
    /// Bodies of <see cref="Runs"/> already encoded by <see cref="Storage.ILedgerWriter.Prepare"/>,
    /// one per run in the same order; null when the batch was not prepared. When set, a run's
    /// bodies are these, whatever its <see cref="RunWrite.Input"/> and <see cref="RunWrite.Output"/>
    /// say: a store may return the prepared batch with the sent text dropped from its runs.
    /// </summary>
    public IReadOnlyList<PreparedBodies>? PreparedRuns { get; init; }

    public int Count => Sessions.Count + Runs.Count + Events.Count;
}

/// <summary>
/// What the store did with one batch: how many items it wrote, the newest event id it wrote, and
/// items it refused because they contradict what is stored (e.g. an end before the stored start).
/// </summary>
public sealed record WriteOutcome(long ProjectId, long LastEventId, int Written, IReadOnlyList<RejectedItem> Rejected);
