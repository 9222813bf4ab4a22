using RunLedger.Core.Model;

namespace RunLedger.Core.Ingest;

/// <summary>The body of <c>POST /v1/ingest</c>: any mix of runs, events and sessions.</summary>
public sealed record IngestRequest
{
    public List<RunPayload>? Runs { get; init; }

    public List<EventPayload>? Events { get; init; }

    public List<SessionPayload>? Sessions { get; init; }
}

/// <summary>
/// A run as a client sends it. Every field is optional on an update: a field left out (or null)
/// keeps the value stored before, so a run can be started and later completed.
/// </summary>
public sealed record RunPayload
{
    public string? Id { get; init; }

    public string? SessionId { get; init; }

    public string? ParentId { get; init; }

    public string? Kind { get; init; }

    public string? Name { get; init; }

    public string? Status { get; init; }

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

    public List<string>? Tags { get; init; }

    public RawJson? Metadata { get; init; }

    public string? UserId { get; init; }
}

/// <summary>An event as a client sends it. A repeated idempotency key is stored once.</summary>
public sealed record EventPayload
{
    public string? Type { get; init; }

    public DateTimeOffset? Time { get; init; }

    public string? SessionId { get; init; }

    public string? RunId { get; init; }

    public string? Name { get; init; }

    public RawJson? Data { get; init; }

    public string? IdempotencyKey { get; init; }
}

/// <summary>A session as a client sends it. Writing the same id again updates it.</summary>
public sealed record SessionPayload
{
    public string? Id { get; init; }

    public string? Name { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? EndedAt { get; init; }

    public string? State { get; init; }

    public RawJson? Metadata { get; init; }
}
