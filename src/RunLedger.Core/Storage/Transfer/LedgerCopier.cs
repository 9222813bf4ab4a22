using System.Diagnostics;

namespace RunLedger.Core.Storage.Transfer;

/// <summary>
/// Copies a source into a store page by page. Each page is written with the position it ends at
/// in one transaction, so an interrupted copy resumes after the last page written; a copy that
/// finished starts over on the next run and skips what the target already holds.
/// </summary>
public static class LedgerCopier
{
    /// <param name="beforeComplete">
    /// Work the copy is not complete without (for example rebuilding rows an old backup lacks),
    /// run after the last page and before the checkpoint is marked complete, so an interrupted
    /// copy is resumed, and this work redone, instead of looking finished. It must be idempotent.
    /// </param>
    public static async Task<CopyReport> CopyAsync(
        ITransferSource source, ILedgerTransfer target, IProgress<CopyProgress>? progress, CancellationToken cancellationToken, Func<CancellationToken, Task>? beforeComplete = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        var clock = Stopwatch.StartNew();
        var sourceId = await source.GetIdAsync(cancellationToken).ConfigureAwait(false);
        var checkpoint = await target.ReadCheckpointAsync(sourceId, cancellationToken).ConfigureAwait(false);
        if (checkpoint is null)
        {
            var held = await target.CountAsync(cancellationToken).ConfigureAwait(false);
            if (held.HasLedgerData)
            {
                throw new TransferConflictException(
                    $"The target already holds {held.Runs} runs, {held.Sessions} sessions and {held.Events} events that did not come from this source; " +
                    "copy into an empty store (a new SQLite file or an empty PostgreSQL database) so the two ledgers are not mixed.");
            }
        }

        var resumeFrom = checkpoint is { Completed: false } ? checkpoint.Position : null;
        var total = (await source.CountAsync(cancellationToken).ConfigureAwait(false))?.Total;
        long done = 0, written = 0, skipped = 0;
        var position = checkpoint?.Position ?? string.Empty;
        await foreach (var page in source.ReadAsync(resumeFrom, cancellationToken).ConfigureAwait(false))
        {
            var result = await target.ImportAsync(page.Records, new TransferCheckpoint(sourceId, page.Position, false), cancellationToken).ConfigureAwait(false);
            done += page.Records.Count(r => r is not RollupRangeRecord);
            written += result.Written;
            skipped += result.Skipped;
            position = page.Position;
            progress?.Report(new CopyProgress(done, total, written, skipped));
        }

        if (beforeComplete is not null)
        {
            await beforeComplete(cancellationToken).ConfigureAwait(false);
        }

        await target.ImportAsync([], new TransferCheckpoint(sourceId, position, true), cancellationToken).ConfigureAwait(false);
        return new CopyReport(resumeFrom is not null, written, skipped, clock.Elapsed);
    }
}
