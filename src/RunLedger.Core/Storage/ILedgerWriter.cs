using RunLedger.Core.Ingest;

namespace RunLedger.Core.Storage;

/// <summary>The write side. Exactly one caller (the ingest writer loop) uses it at a time.</summary>
public interface ILedgerWriter
{
    /// <summary>
    /// Writes several batches in one durable transaction (group commit). A batch is all or
    /// nothing: if one fails, its neighbours are still written and the failure is reported in
    /// its slot. Returns when the commit is durable.
    /// </summary>
    Task<IReadOnlyList<BatchResult>> WriteAsync(IReadOnlyList<WriteBatch> batches, CancellationToken cancellationToken);
}

/// <summary>What happened to one batch: its outcome, or the exception that rolled it back.</summary>
public sealed record BatchResult(WriteOutcome? Outcome, Exception? Error)
{
    public bool Succeeded => Error is null;
}
