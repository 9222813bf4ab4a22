using System.Runtime.CompilerServices;
using RunLedger.Core.Rollups;

namespace RunLedger.Core.Storage.Transfer;

/// <summary>
/// A source as it would have been written before the hourly rollup tier: its hourly rollup rows
/// left out. Verifying a store restored from a version-1 backup compares it through this, since
/// the store added hourly rows the file does not have.
/// </summary>
public sealed class WithoutHourlyRollups(ITransferSource inner) : ITransferSource
{
    public Task<string> GetIdAsync(CancellationToken cancellationToken) => inner.GetIdAsync(cancellationToken);

    public Task<TransferCounts?> CountAsync(CancellationToken cancellationToken) => inner.CountAsync(cancellationToken);

    public async IAsyncEnumerable<TransferPage> ReadAsync(string? position, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var page in inner.ReadAsync(position, cancellationToken).ConfigureAwait(false))
        {
            yield return page with { Records = [.. page.Records.Where(r => r is not RollupRecord { BucketSize: RollupDeltas.Hour })] };
        }
    }
}
