using RunLedger.Core.Payloads;
using RunLedger.Core.Storage;
using RunLedger.Core.Storage.Transfer;
using RunLedger.Server.Hosting;
using RunLedger.Sqlite;

namespace RunLedger.Cli.Transfer;

/// <summary>Opens stores in this process for migrate, backup and restore, with the errors a person can act on.</summary>
internal static class LocalStores
{
    /// <summary>
    /// The store the <c>--store</c> option names, defaulting like <c>serve</c>:
    /// <c>--store</c>, then <c>RUNLEDGER_STORE</c>, then <c>runledger.db</c> in the data directory.
    /// </summary>
    public static StoreLocation Resolve(CliHost host, string? storeOption, string? dataOption)
    {
        var text = !string.IsNullOrWhiteSpace(storeOption) ? storeOption
            : host.GetEnvironmentVariable(KeyResolver.StoreVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment
            : null;
        if (text is null)
        {
            var data = KeyResolver.ResolveDataDirectory(dataOption, host.GetEnvironmentVariable, host.CurrentDirectory);
            return new StoreLocation(StoreEngine.Sqlite, Path.GetFullPath(Path.Combine(data, new SqliteStoreOptions().Path), host.CurrentDirectory));
        }

        return Parse(host, text, "--store");
    }

    public static StoreLocation Parse(CliHost host, string text, string option)
    {
        try
        {
            return StoreLocation.Parse(text, host.CurrentDirectory);
        }
        catch (FormatException e)
        {
            throw new CliUsageException($"{option}: {e.Message}");
        }
    }

    /// <summary>
    /// Opens and initializes a store. A SQLite store that must already exist is checked first, so a
    /// typo does not create an empty file. The tools never run a full-text indexer of their own: a
    /// source or backup may be written by a running server meanwhile, and for a target (a restore,
    /// a migration) indexing would hold the tool open for minutes per million runs at its close;
    /// the server that opens the ledger next builds what its index lacks in the background, and
    /// search reads those runs from their bodies until then.
    /// </summary>
    public static async Task<ILedgerStore> OpenAsync(StoreLocation location, bool mustExist, TimeProvider time, CancellationToken cancellationToken)
    {
        if (mustExist && location.Engine == StoreEngine.Sqlite && !File.Exists(location.Value))
        {
            throw new CliUsageException($"There is no SQLite database at {location.Value}.");
        }

        ILedgerStore store;
        try
        {
            store = LedgerStores.Create(location, new SqliteStoreOptions { IndexInBackground = false }, new PayloadOptions(), time);
        }
        catch (NotSupportedException e)
        {
            throw new CliUsageException($"{location.Redacted()}: {e.Message}");
        }

        try
        {
            await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
            return store;
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public static ILedgerTransfer TransferOf(ILedgerStore store, StoreLocation location) =>
        (store as ITransferableStore)?.Transfer
        ?? throw new CliUsageException($"{location.Redacted()}: this store cannot export or import its content.");
}
