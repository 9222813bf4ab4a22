using Microsoft.Data.Sqlite;
using RunLedger.Core.Ingest;
using RunLedger.Core.Payloads;
using RunLedger.Core.Rollups;
using RunLedger.Core.Storage;

namespace RunLedger.Sqlite;

/// <summary>
/// Writes batches on the single writer connection. One group of batches is one transaction
/// (group commit); each batch runs inside a savepoint so a failing batch rolls back alone.
/// Runs, their events, session totals and rollups change in the same transaction, so the
/// projections never disagree with the event log.
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
    private Commands? _commands;

    public SqliteWriter(SqliteConnection connection, PayloadOptions payloadOptions, SqliteStoreOptions storeOptions, TimeProvider time)
    {
        _connection = connection;
        _payloadOptions = payloadOptions;
        _storeOptions = storeOptions;
        _time = time;
    }

    private Commands Cmd => _commands ?? throw new InvalidOperationException("The store is not initialized.");

    /// <summary>Builds the prepared statements once the schema exists.</summary>
    public void Prepare() => _commands ??= new Commands(_connection);

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
            return await action(_connection).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private BatchResult[] WriteGroup(IReadOnlyList<WriteBatch> batches)
    {
        var results = new BatchResult[batches.Count];
        _groupRollups.Clear();
        using var transaction = _connection.BeginTransaction(deferred: false);
        Cmd.Bind(transaction);
        try
        {
            for (var i = 0; i < batches.Count; i++)
            {
                var savepoint = "b" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                transaction.Save(savepoint);
                _batchRollups.Clear();
                try
                {
                    var outcome = WriteBatch(batches[i]);
                    transaction.Release(savepoint);
                    _batchRollups.MoveTo(_groupRollups);
                    results[i] = new BatchResult(outcome, null);
                }
                catch (SqliteException ex) when (IsFatal(ex))
                {
                    throw;
                }
                catch (Exception ex) when (ex is SqliteException or InvalidOperationException or FormatException or OverflowException or ArgumentException)
                {
                    transaction.Rollback(savepoint);
                    transaction.Release(savepoint);
                    results[i] = new BatchResult(null, ex);
                }
            }

            FlushRollups(_groupRollups);
            transaction.Commit();
        }
        catch
        {
            _groupRollups.Clear();
            try
            {
                transaction.Rollback();
            }
            catch (SqliteException)
            {
                // The connection may already have rolled back (e.g. disk full); nothing was committed.
            }

            throw;
        }

        return results;
    }

    /// <summary>Errors that mean the database itself is in trouble: the whole group fails (503).</summary>
    private static bool IsFatal(SqliteException ex) => ex.SqliteErrorCode is
        5 /* BUSY */ or 6 /* LOCKED */ or 7 /* NOMEM */ or 8 /* READONLY */ or 10 /* IOERR */ or
        11 /* CORRUPT */ or 13 /* FULL */ or 14 /* CANTOPEN */ or 26 /* NOTADB */;

    private WriteOutcome WriteBatch(WriteBatch batch)
    {
        var context = new BatchContext(batch, StorageUnits.ToMicros(_time.GetUtcNow()));
        foreach (var session in batch.Sessions)
        {
            WriteSession(context, session);
        }

        foreach (var run in batch.Runs)
        {
            WriteRun(context, run);
        }

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
    }
}
