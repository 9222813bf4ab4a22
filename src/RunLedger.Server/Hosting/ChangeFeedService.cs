using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RunLedger.Core.Ingest;
using RunLedger.Core.Storage;

namespace RunLedger.Server.Hosting;

/// <summary>
/// Forwards commits made by other server processes on the same database to this process's
/// <see cref="LedgerChangeNotifier"/>, so live streams here wake at once. Does nothing for a store
/// that is not an <see cref="ILedgerChangeFeed"/> (SQLite: only this process writes).
/// </summary>
internal sealed class ChangeFeedService(ILedgerStore store, LedgerChangeNotifier notifier, ILogger<ChangeFeedService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (store is not ILedgerChangeFeed feed)
        {
            return;
        }

        try
        {
            await feed.ListenAsync(notifier, logger, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
        catch (Exception ex)
        {
            // The feed reconnects by itself; reaching here is a bug. Streams still poll the table.
            Log.ChangeFeedStopped(logger, ex);
        }
    }
}
