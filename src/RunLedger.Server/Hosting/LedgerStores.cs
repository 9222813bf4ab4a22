using Microsoft.Extensions.Logging;
using RunLedger.Core.Payloads;
using RunLedger.Core.Storage;
using RunLedger.Postgres;
using RunLedger.Sqlite;

namespace RunLedger.Server.Hosting;

/// <summary>Opens the store a <see cref="StoreLocation"/> names. The one place that knows every provider.</summary>
public static class LedgerStores
{
    /// <summary>
    /// Creates (does not initialize) the store at <paramref name="location"/>. The caller calls
    /// <see cref="ILedgerStore.InitializeAsync"/> and disposes it.
    /// </summary>
    public static ILedgerStore Create(StoreLocation location, SqliteStoreOptions sqlite, PayloadOptions payloads, TimeProvider timeProvider, PostgresStoreOptions? postgres = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(location);
        return location.Engine switch
        {
            StoreEngine.Sqlite => new SqliteLedgerStore(location.Value, sqlite, payloads, timeProvider, logger),
            StoreEngine.Postgres => new PostgresLedgerStore(location.Value, postgres ?? new PostgresStoreOptions(), payloads, timeProvider),
            _ => throw new ArgumentOutOfRangeException(nameof(location), location.Engine, "Unknown store engine."),
        };
    }
}
