using RunLedger.Core.Ingest;

namespace RunLedger.Core.Storage;

/// <summary>
/// The write side. Exactly one caller (the ingest writer loop) uses <see cref="WriteAsync"/> at a
/// time; <see cref="Prepare"/> is called by any number of submitting threads at once.
/// </summary>
public interface ILedgerWriter
{
    /// <summary>
    /// Does the work of a batch that needs no database (encoding bodies: hashing, truncation,
    /// compression, search text) on the submitting thread, before the batch is queued, so the
    /// single writer only writes. Returns the batch to queue: the same batch, or a copy that
    /// carries the prepared work. Must be thread-safe and must not touch stored state. The default
    /// prepares nothing.
    /// </summary>
    WriteBatch Prepare(WriteBatch batch) => batch;

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
