namespace RunLedger.Core.Storage.Transfer;

/// <summary>An event with its original id (the ledger's monotonic order) and data.</summary>
public sealed record EventRecord : TransferRecord
{
    public required long Id { get; init; }

    public required string Project { get; init; }

    public required string Type { get; init; }

    public long Time { get; init; }

    public string? SessionId { get; init; }

    public Guid? RunId { get; init; }

    public string? Name { get; init; }

    /// <summary>JSON text, as stored.</summary>
    public string? Data { get; init; }

    public string? IdempotencyKey { get; init; }
}
