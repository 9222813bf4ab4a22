using System.Collections.Concurrent;
using RunLedger.Core.Storage;

namespace RunLedger.Core.Ingest;

/// <summary>
/// Wakes live readers after a commit. It carries no data, only "the newest event id of project P
/// is now N": readers then read the event table, which is the single source of truth, so a
/// reader never sees an uncommitted change and never misses one. Commits of this process are
/// published by the ingest pipeline; commits of other processes on a shared database arrive
/// through the store's <see cref="ILedgerChangeFeed"/>.
/// </summary>
public sealed class LedgerChangeNotifier : ILedgerChangeSink
{
    private readonly ConcurrentDictionary<long, long> _lastEventIds = new();
    private readonly Lock _gate = new();
    private TaskCompletionSource _changed = NewSource();

    /// <summary>Called after a durable commit.</summary>
    public void Publish(long projectId, long lastEventId)
    {
        _lastEventIds.AddOrUpdate(projectId, lastEventId, (_, old) => Math.Max(old, lastEventId));
        Wake();
    }

    /// <summary>Wakes every waiting reader of every project to read the event table again.</summary>
    public void PublishAll() => Wake();

    private void Wake()
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            changed = _changed;
            _changed = NewSource();
        }

        changed.TrySetResult();
    }

    /// <summary>The newest event id published for the project, or null when none was published since start.</summary>
    public long? LastPublished(long projectId) => _lastEventIds.TryGetValue(projectId, out var id) ? id : null;

    /// <summary>
    /// Completes when the project has an event newer than <paramref name="afterId"/>, or when
    /// <paramref name="timeout"/> passes (the caller then checks the table anyway).
    /// </summary>
    public async Task WaitAsync(long projectId, long afterId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Task changed;
        lock (_gate)
        {
            changed = _changed.Task;
        }

        if (LastPublished(projectId) > afterId)
        {
            return;
        }

        try
        {
            await changed.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A periodic wake-up: the reader re-reads the table, so nothing depends on the signal.
        }
    }

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
