namespace RunLedger.Core.Model;

/// <summary>An entry of the append-only event log. Ids are monotonic per ledger.</summary>
public sealed record LedgerEvent
{
    public required long Id { get; init; }

    public required string Type { get; init; }

    public required DateTimeOffset Time { get; init; }

    public string? SessionId { get; init; }

    public Guid? RunId { get; init; }

    public string? Name { get; init; }

    public RawJson? Data { get; init; }

    public string? IdempotencyKey { get; init; }
}
