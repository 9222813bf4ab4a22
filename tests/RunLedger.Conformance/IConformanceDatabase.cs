using RunLedger.Core.Payloads;
using RunLedger.Core.Storage;

namespace RunLedger.Conformance;

/// <summary>
/// One fresh, empty database made for one test by a store's test project. The suite opens stores
/// on it (several at once for the concurrency tests, again after disposing one for the reopen
/// tests) and disposes it when the test ends.
/// </summary>
public interface IConformanceDatabase : IAsyncDisposable
{
    /// <summary>
    /// Opens a new store instance on this database and initializes it (<see cref="ILedgerStore.InitializeAsync"/>).
    /// Each call gives a separate instance with its own connections, as a second process or
    /// server replica would have; the suite disposes every store it opens before the database.
    /// </summary>
    /// <param name="payloads">Body limits and compression settings for this instance.</param>
    /// <param name="time">The clock the store must read "now" from (relative-time filters, created/updated times).</param>
    /// <param name="cancellationToken">Cancels opening.</param>
    Task<ILedgerStore> OpenStoreAsync(PayloadOptions payloads, TimeProvider time, CancellationToken cancellationToken);

    /// <summary>
    /// Runs SQL directly against the database, behind the stores' backs: for tests that damage
    /// stored data (bit rot, bytes written by a newer version) to see how the stores cope.
    /// Keep the SQL to what both stores' schemas and dialects accept.
    /// </summary>
    Task ExecuteSqlAsync(string sql, CancellationToken cancellationToken);
}
