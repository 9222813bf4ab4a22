using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using RunLedger.Core.Storage;

namespace RunLedger.Core.Ingest;

/// <summary>
/// The single write path: requests are queued to a bounded channel, one writer loop takes as many
/// as are waiting and commits them in one transaction (group commit), then acknowledges each and
/// publishes the change. A full queue is refused at once instead of buffering without bound.
/// </summary>
public sealed partial class IngestPipeline : IAsyncDisposable
{
    private readonly ILedgerWriter _writer;
    private readonly IngestOptions _options;
    private readonly LedgerChangeNotifier _notifier;
    private readonly ILogger _logger;
    private readonly Channel<Pending> _queue;
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;

    public IngestPipeline(ILedgerWriter writer, IngestOptions options, LedgerChangeNotifier notifier, ILogger<IngestPipeline> logger)
    {
        _writer = writer;
        _options = options;
        _notifier = notifier;
        _logger = logger;
        _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(options.QueueCapacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>How many requests wait for the writer now.</summary>
    public int QueueLength => _queue.Reader.CanCount ? _queue.Reader.Count : 0;

    public void Start() => _loop ??= Task.Run(() => RunAsync(_stopping.Token));

    /// <summary>
    /// Queues a batch and completes when it is durably committed. Throws
    /// <see cref="IngestUnavailableException"/> when the queue is full or the store failed.
    /// </summary>
    /// <remarks>
    /// Not an async method: an awaiting state machine would keep <paramref name="batch"/> (with the
    /// sent JSON text) alive until the commit, next to the prepared batch that replaces it.
    /// </remarks>
    public Task<WriteOutcome> SubmitAsync(WriteBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (_loop is null)
        {
            throw new InvalidOperationException("The ingest pipeline has not been started.");
        }

        // Encode bodies here, on the submitting thread, so the single writer only writes.
        var pending = new Pending(_writer.Prepare(batch));
        if (!_queue.Writer.TryWrite(pending))
        {
            return Task.FromException<WriteOutcome>(new IngestUnavailableException(
                "The ingest queue is full; the ledger is writing as fast as the disk allows. Retry after the time in Retry-After.",
                TimeSpan.FromSeconds(_options.RetryAfterSeconds),
                queueFull: true));
        }

        // Once queued, the write goes ahead even if the client goes away: the caller may stop
        // waiting, but the batch is not half-written or withdrawn.
        return pending.Completion.Task.WaitAsync(cancellationToken);
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        var group = new List<Pending>();
        var batches = new List<WriteBatch>();
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stopping).ConfigureAwait(false))
            {
                group.Clear();
                batches.Clear();
                var items = 0;
                while (items < _options.MaxItemsPerCommit && _queue.Reader.TryRead(out var next))
                {
                    group.Add(next);
                    batches.Add(next.Batch);
                    items += Math.Max(1, next.Batch.Count);
                }

                await CommitAsync(group, batches).ConfigureAwait(false);

                // Acknowledged: let the batches go now, not when the next request arrives.
                group.Clear();
                batches.Clear();
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Shutting down; anything left is failed below.
        }

        while (_queue.Reader.TryRead(out var left))
        {
            left.Completion.TrySetException(new IngestUnavailableException("The server is shutting down; the batch was not written.", TimeSpan.FromSeconds(_options.RetryAfterSeconds), queueFull: false));
        }
    }

    private async Task CommitAsync(List<Pending> group, List<WriteBatch> batches)
    {
        IReadOnlyList<BatchResult> results;
        try
        {
            // Not cancellable: a commit in flight finishes, so acknowledged means committed.
            results = await _writer.WriteAsync(batches, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            if (SchemaTooNewException.Find(ex) is { } tooNew)
            {
                // Not transient: this replica is older than its ledger. Say so on every group,
                // to the log and to the client, until it is upgraded.
                LogSchemaTooNew(_logger, batches.Count, tooNew.Message);
                var refusal = new IngestUnavailableException(tooNew.Message, TimeSpan.FromSeconds(_options.RetryAfterSeconds), queueFull: false, tooNew);
                foreach (var pending in group)
                {
                    pending.Completion.TrySetException(refusal);
                }

                return;
            }

            if (StoreUnavailableException.IsUnavailable(ex))
            {
                // Expected while the database is away; the reason is enough, a stack trace is noise.
                LogStoreUnavailable(_logger, batches.Count, ex.GetBaseException().Message);
            }
            else
            {
                LogCommitFailed(_logger, ex, batches.Count);
            }

            var failure = new IngestUnavailableException(
                "The store could not commit the batch, so it is not acknowledged. Send it again after the time in Retry-After; a run sent again with the same id updates that run, never duplicates it.",
                TimeSpan.FromSeconds(_options.RetryAfterSeconds),
                queueFull: false,
                ex);
            foreach (var pending in group)
            {
                pending.Completion.TrySetException(failure);
            }

            return;
        }

        var published = new Dictionary<long, long>();
        for (var i = 0; i < group.Count; i++)
        {
            var result = results[i];
            if (result.Outcome is { } outcome)
            {
                if (outcome.LastEventId > 0)
                {
                    published[outcome.ProjectId] = Math.Max(published.GetValueOrDefault(outcome.ProjectId), outcome.LastEventId);
                }

                group[i].Completion.TrySetResult(outcome);
            }
            else
            {
                LogBatchFailed(_logger, result.Error, batches[i].Count);
                group[i].Completion.TrySetException(StoreUnavailableException.IsUnavailable(result.Error)
                    ? new IngestUnavailableException(
                        "The store is unavailable; nothing of the batch was stored. Retry after the time in Retry-After.",
                        TimeSpan.FromSeconds(_options.RetryAfterSeconds),
                        queueFull: false,
                        result.Error)
                    : result.Error ?? new InvalidOperationException("The batch was not written."));
            }
        }

        foreach (var (projectId, lastEventId) in published)
        {
            _notifier.Publish(projectId, lastEventId);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        if (_loop is not null)
        {
            // Let queued batches drain; stop waiting after a bounded time.
            await Task.WhenAny(_loop, Task.Delay(TimeSpan.FromSeconds(10))).ConfigureAwait(false);
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        _stopping.Dispose();
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "The store failed to commit a group of {BatchCount} batches; every request in it was answered 503.")]
    private static partial void LogCommitFailed(ILogger logger, Exception exception, int batchCount);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "The store is unavailable; a group of {BatchCount} batches was not written and every request in it was answered 503: {Reason}")]
    private static partial void LogStoreUnavailable(ILogger logger, int batchCount, string reason);

    [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "This server is older than its ledger's schema and does not write to it; a group of {BatchCount} batches was refused with 503: {Reason}")]
    private static partial void LogSchemaTooNew(ILogger logger, int batchCount, string reason);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "A batch of {ItemCount} items was rolled back.")]
    private static partial void LogBatchFailed(ILogger logger, Exception? exception, int itemCount);

    private sealed class Pending(WriteBatch batch)
    {
        public WriteBatch Batch { get; } = batch;

        public TaskCompletionSource<WriteOutcome> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
