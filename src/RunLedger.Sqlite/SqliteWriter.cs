using System.Buffers;
using Microsoft.Data.Sqlite;
using RunLedger.Core;
using RunLedger.Core.Ingest;
using RunLedger.Core.Payloads;
using RunLedger.Core.Rollups;
using RunLedger.Core.Storage;

namespace RunLedger.Sqlite;

/// <summary>
/// Writes batches on the single writer connection. One group of batches is one transaction
/// (group commit); when a batch fails, the group is redone with a savepoint per batch so the
/// failing one rolls back alone. Runs, their events, session totals and rollups change in the
/// same transaction, so the projections never disagree with the event log. Bodies arrive encoded
/// (<see cref="Prepare(WriteBatch)"/> runs on the submitting threads) and new runs are added to the
/// full-text index after commit (see <c>SqliteWriter.Fts.cs</c>).
/// </summary>
internal sealed partial class SqliteWriter : ILedgerWriter, IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly PayloadOptions _payloadOptions;
    private readonly SqliteStoreOptions _storeOptions;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly RollupDeltas _groupRollups = new();
    private readonly RollupDeltas _batchRollups = new();
    private readonly List<PendingText> _groupTexts = [];
    private readonly PayloadDictionaries _dictionaries;
    private PayloadDictionaryTrainer _trainer;
    private static readonly TimeSpan DictionaryTrimInterval = TimeSpan.FromMinutes(1);
    private PayloadDictionary? _storingDictionary;
    private DateTimeOffset _nextDictionaryTrim;
    private Commands? _commands;

    /// <summary>The run event being written, packed (reused for every run).</summary>
    private readonly ArrayBufferWriter<byte> _eventData = new(512);

    public SqliteWriter(SqliteConnection connection, PayloadOptions payloadOptions, SqliteStoreOptions storeOptions, TimeProvider time, PayloadDictionaries dictionaries)
    {
        _connection = connection;
        _payloadOptions = payloadOptions;
        _storeOptions = storeOptions;
        _time = time;
        _dictionaries = dictionaries;
        _trainer = new PayloadDictionaryTrainer(payloadOptions, dictionaries);
    }

    private Commands Cmd => _commands ?? throw new InvalidOperationException("The store is not initialized.");

    /// <summary>Builds the prepared statements once the schema exists and starts the indexer.</summary>
    public void Start()
    {
        _commands ??= new Commands(_connection);
        LoadDictionaries();
        SearchIndex?.Start();
    }

    public async Task<IReadOnlyList<BatchResult>> WriteAsync(IReadOnlyList<WriteBatch> batches, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return WriteGroup(batches);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Runs something else that writes (admin changes) while no batch is being written.</summary>
    public async Task<T> ExclusiveAsync<T>(Func<SqliteConnection, Task<T>> action)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            try
            {
                return await action(_connection).ConfigureAwait(false);
            }
            finally
            {
                // The action may have changed rollup rows and metadata entries (an import or clear
                // writes them itself) and removed runs whose texts wait for the indexer.
                ForgetRollups();
                ForgetMetadataKeys();
                AdoptIndexAfterExclusive();
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private BatchResult[] WriteGroup(IReadOnlyList<WriteBatch> batches)
    {
        // Optimistic first: no savepoint per batch. Only if a batch fails is the group redone with
        // a savepoint around each batch, so the failing one still rolls back alone.
        return TryWriteGroup(batches, savepoints: false) ?? TryWriteGroup(batches, savepoints: true)!;
    }

    /// <summary>
    /// Writes and commits the group; null when a batch failed and <paramref name="savepoints"/>
    /// was false (the whole group was rolled back, to be redone with savepoints).
    /// </summary>
    private BatchResult[]? TryWriteGroup(IReadOnlyList<WriteBatch> batches, bool savepoints)
    {
        var results = new BatchResult[batches.Count];
        _groupRollups.Clear();
        _groupTexts.Clear();
        using var transaction = _connection.BeginTransaction(deferred: false);
        Cmd.Bind(transaction);
        try
        {
            CheckDataVersion();
            StoreTrainedDictionary(transaction);
            for (var i = 0; i < batches.Count; i++)
            {
                var savepoint = savepoints ? "b" + i.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
                if (savepoint is not null)
                {
                    transaction.Save(savepoint);
                }

                _batchRollups.Clear();
                var context = new BatchContext(batches[i], StorageUnits.ToMicros(_time.GetUtcNow()));
                try
                {
                    var outcome = WriteBatch(context);
                    if (savepoint is not null)
                    {
                        transaction.Release(savepoint);
                    }

                    _batchRollups.MoveTo(_groupRollups);
                    _groupTexts.AddRange(context.NewTexts);
                    results[i] = new BatchResult(outcome, null);
                }
                catch (SqliteException ex) when (IsFatal(ex))
                {
                    throw;
                }
                catch (Exception ex) when (ex is SqliteException or InvalidOperationException or FormatException or OverflowException or ArgumentException)
                {
                    ForgetMetadataKeys();
                    if (savepoint is null)
                    {
                        ForgetRollups();
                        RollBack(transaction);
                        _groupRollups.Clear();
                        _groupTexts.Clear();
                        return null;
                    }

                    transaction.Rollback(savepoint);
                    transaction.Release(savepoint);
                    results[i] = new BatchResult(null, ex);
                }
            }

            FlushRollups(_groupRollups);
            transaction.Commit();
            AdoptStoredDictionary();
            TrimDictionaries();
        }
        catch
        {
            // Rolled back: the cached rollup rows may hold figures that were never committed, and
            // the cached metadata keys may name entries that were never committed.
            ForgetRollups();
            ForgetMetadataKeys();
            _groupRollups.Clear();
            _groupTexts.Clear();
            RollBack(transaction);
            throw;
        }

        QueueForIndexing(_groupTexts);
        return results;
    }

    private static void RollBack(SqliteTransaction transaction)
    {
        try
        {
            transaction.Rollback();
        }
        catch (SqliteException)
        {
            // The connection may already have rolled back (e.g. disk full); nothing was committed.
        }
        catch (InvalidOperationException)
        {
            // Already rolled back.
        }
    }

    /// <summary>Errors that mean the database itself is in trouble: the whole group fails (503).</summary>
    private static bool IsFatal(SqliteException ex) => ex.SqliteErrorCode is
        5 /* BUSY */ or 6 /* LOCKED */ or 7 /* NOMEM */ or 8 /* READONLY */ or 10 /* IOERR */ or
        11 /* CORRUPT */ or 13 /* FULL */ or 14 /* CANTOPEN */ or 26 /* NOTADB */;

    private WriteOutcome WriteBatch(BatchContext context)
    {
        var batch = context.Batch;
        foreach (var session in batch.Sessions)
        {
            WriteSession(context, session);
        }

        var prepared = batch.PreparedRuns is { } list && list.Count == batch.Runs.Count ? list : null;
        for (var i = 0; i < batch.Runs.Count; i++)
        {
            WriteRun(context, batch.Runs[i], prepared?[i]);
        }

        FlushSessionTotals(context);
        FlushMetadataCounts(context);
        foreach (var e in batch.Events)
        {
            WriteClientEvent(context, e);
        }

        return new WriteOutcome(batch.ProjectId, context.LastEventId, context.Written, context.Rejected);
    }

    public void Dispose()
    {
        _commands?.Dispose();
        _gate.Dispose();
    }

    /// <summary>State of one batch while it is being written.</summary>
    private sealed class BatchContext(WriteBatch batch, long nowMicros)
    {
        public WriteBatch Batch { get; } = batch;

        public long ProjectId => Batch.ProjectId;

        public long NowMicros { get; } = nowMicros;

        public long ReceivedMicros { get; } = StorageUnits.ToMicros(batch.ReceivedAt);

        public long LastEventId { get; set; }

        public int Written { get; set; }

        public List<RejectedItem> Rejected { get; } = [];

        /// <summary>Sessions this batch made sure exist (once per session, not once per run).</summary>
        public HashSet<string> EnsuredSessions { get; } = new(StringComparer.Ordinal);

        /// <summary>Keys of the session ids this batch named (see <c>SessionKey</c>).</summary>
        public Dictionary<string, long> SessionKeys { get; } = new(StringComparer.Ordinal);

        /// <summary>Session totals this batch changes, applied once per session at its end.</summary>
        public Dictionary<string, SessionDelta> SessionDeltas { get; } = new(StringComparer.Ordinal);

        /// <summary>
        /// Changes of the run counts of metadata, parameters and tags entries (by
        /// <see cref="SqliteRunValues.Index"/>), written once per entry at the batch's end.
        /// </summary>
        public Dictionary<long, long>[] ValueCounts { get; } = [[], [], []];

        public void CountValue(SqliteRunValues values, long? key, long delta)
        {
            if (key is { } k)
            {
                var counts = ValueCounts[values.Index];
                counts[k] = counts.GetValueOrDefault(k) + delta;
            }
        }

        /// <summary>New runs and their search text, for the indexer once the group is committed.</summary>
        public List<PendingText> NewTexts { get; } = new(batch.Runs.Count);
    }
}
