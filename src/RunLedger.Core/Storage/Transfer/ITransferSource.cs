namespace RunLedger.Core.Storage.Transfer;

/// <summary>
/// Where a copy reads from: a store, or a logical backup file. Records come in pages in the
/// canonical order of <see cref="ILedgerTransfer"/>; each page ends at a position from which
/// reading can resume.
/// </summary>
public interface ITransferSource
{
    /// <summary>A stable id of the source, under which the target keeps its checkpoint.</summary>
    Task<string> GetIdAsync(CancellationToken cancellationToken);

    /// <summary>How many records the source holds (for progress), or null when it cannot tell cheaply.</summary>
    Task<TransferCounts?> CountAsync(CancellationToken cancellationToken);

    /// <summary>The pages after <paramref name="position"/> (from the start when null).</summary>
    IAsyncEnumerable<TransferPage> ReadAsync(string? position, CancellationToken cancellationToken);
}
