using System.Globalization;
using System.Text.Json;
using Npgsql;
using RunLedger.Core.Ingest;
using RunLedger.Core.Payloads;
using RunLedger.Core.Rollups;
using RunLedger.Core.Storage;

namespace RunLedger.Postgres;

/// <summary>
/// Writes batches with the same semantics as the SQLite store. One group of batches is one
/// transaction (group commit); each batch runs inside a savepoint so a failing batch rolls back
/// alone. Runs, their events, session totals and rollups change in the same transaction.
/// <para>
/// A batch is first read (the stored runs, sessions and idempotency keys it touches) and merged
/// in memory with the shared rules of <see cref="RunMerge"/> and <see cref="SessionMerge"/>,
/// then written in bulk: new runs, events and payloads with binary COPY, changed rows with one
/// batched round trip.
/// </para>
/// <para>
/// Event order across replicas: the live stream resumes with "events with id &gt; last seen", so
/// an event id must never become visible after a higher one. Sequence values are handed out at
/// insert time but become visible at commit, so two writers could commit out of order and a
/// reader could skip the lower id for good. Every write transaction therefore first takes the
/// transaction-level advisory lock <see cref="EventOrderLockKey"/>: writers (in this process or
/// any replica) take event ids and commit one after another, so ids become visible in order.
/// The same lock makes the read-modify-write of rollup rows, session totals and partition
/// creation safe between replicas. After writing, the transaction notifies
/// <see cref="PostgresLedgerStore.EventsChannel"/> with "projectId:lastEventId"; PostgreSQL
/// delivers the notification only at commit.
/// </para>
/// <para>
/// Schema version: in the same round trip as the lock, each group reads the newest version in
/// <c>schema_version</c> and refuses to write (<see cref="SchemaTooNewException"/>) when another
/// replica of a newer build has migrated past what this build knows. Migrations take the same
/// lock before they change anything, so a group either commits before a migration starts or sees
/// its version: an older replica left running cannot write rows the new schema keeps otherwise.
/// </para>
/// </summary>
internal sealed partial class PostgresWriter : ILedgerWriter, IDisposable
{
    /// <summary>Advisory lock key that orders event-writing transactions ("RLEVENTS" in ASCII).</summary>
    internal const long EventOrderLockKey = 0x524C_4556_454E_5453;

    private readonly PostgresLedgerStore _store;
    private readonly PayloadOptions _payloadOptions;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);

    public PostgresWriter(PostgresLedgerStore store, PayloadOptions payloadOptions, TimeProvider time)
    {
        _store = store;
        _payloadOptions = payloadOptions;
        _time = time;
    }

    public async Task<IReadOnlyList<BatchResult>> WriteAsync(IReadOnlyList<WriteBatch> batches, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batches);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await WriteGroupAsync(batches, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Loads the existing partitions and creates those of this month and the next months ahead.</summary>
    public async Task CreatePartitionsAheadAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await _store.Partitions.LoadAsync(connection, cancellationToken).ConfigureAwait(false);
        var current = Partitions.MonthOf(StorageUnits.ToMicros(_time.GetUtcNow()));
        var months = Partitions.Tables
            .SelectMany(table => Enumerable.Range(current, _store.Options.PartitionMonthsAhead + 1).Select(month => (table, month)))
            .ToList();
        if (months.All(m => _store.Partitions.IsKnown(m.table, m.month)))
        {
            return;
        }

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, $"SELECT pg_advisory_xact_lock({EventOrderLockKey})", cancellationToken).ConfigureAwait(false);
        var created = await _store.Partitions.EnsureAsync(connection, months, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        _store.Partitions.MarkKnown(created);
    }

    private async Task<BatchResult[]> WriteGroupAsync(IReadOnlyList<WriteBatch> batches, CancellationToken cancellationToken)
    {
        var results = new BatchResult[batches.Count];
        var groupRollups = new RollupDeltas();
        var created = new List<(string, int)>();
        var lastEventIds = new Dictionary<long, long>();
        await using var connection = await _store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await LockAndCheckSchemaAsync(connection, cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < batches.Count; i++)
        {
            var savepoint = "b" + i.ToString(CultureInfo.InvariantCulture);
            await transaction.SaveAsync(savepoint, cancellationToken).ConfigureAwait(false);
            var context = new BatchContext(batches[i], StorageUnits.ToMicros(_time.GetUtcNow()));
            try
            {
                var outcome = await WriteBatchAsync(connection, context, cancellationToken).ConfigureAwait(false);
                await transaction.ReleaseAsync(savepoint, cancellationToken).ConfigureAwait(false);
                context.Rollups.MoveTo(groupRollups);
                created.AddRange(context.CreatedPartitions);
                if (outcome.LastEventId > 0)
                {
                    lastEventIds[outcome.ProjectId] = Math.Max(outcome.LastEventId, lastEventIds.GetValueOrDefault(outcome.ProjectId));
                }

                results[i] = new BatchResult(outcome, null);
            }
            catch (Exception ex) when (IsBatchError(ex))
            {
                await transaction.RollbackAsync(savepoint, cancellationToken).ConfigureAwait(false);
                results[i] = new BatchResult(null, ex);
            }
        }

        await FlushRollupsAsync(connection, groupRollups, cancellationToken).ConfigureAwait(false);
        foreach (var (projectId, lastEventId) in lastEventIds)
        {
            await using var notify = new NpgsqlCommand("SELECT pg_notify(@channel, @message)", connection);
            notify.Parameters.AddWithValue("channel", PostgresLedgerStore.EventsChannel);
            notify.Parameters.AddWithValue("message", string.Create(CultureInfo.InvariantCulture, $"{projectId}:{lastEventId}"));
            await notify.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        _store.Partitions.MarkKnown(created);
        return results;
    }

    /// <summary>
    /// Takes the writers' lock, then reads the schema version, in one round trip. Two statements,
    /// not one: under READ COMMITTED each statement reads the data committed when it starts, so
    /// the version must be read by a statement that starts after the lock is held (a migration
    /// that committed while this group waited for the lock is then seen).
    /// </summary>
    private async Task LockAndCheckSchemaAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand($"SELECT pg_advisory_xact_lock({EventOrderLockKey})"),
                new NpgsqlBatchCommand(PostgresMigrator.CurrentVersionSql),
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        var version = reader.IsDBNull(0) ? 0 : reader.GetInt32(0);
        if (version > _store.KnownSchemaVersion)
        {
            throw SchemaTooNewException.WhileRunning(version, _store.KnownSchemaVersion);
        }
    }

    /// <summary>
    /// Errors that belong to one batch (bad data for this database): the batch rolls back to its
    /// savepoint and its neighbours are written. Anything else (connection lost, server shutting
    /// down, out of resources, serialization failures) fails the whole group.
    /// </summary>
    private static bool IsBatchError(Exception ex) => ex switch
    {
        PostgresException pg => !IsFatal(pg.SqlState),
        NpgsqlException => false,
        InvalidOperationException or FormatException or OverflowException or ArgumentException or JsonException => true,
        _ => false,
    };

    private static bool IsFatal(string sqlState) =>
        sqlState.StartsWith("08", StringComparison.Ordinal) /* connection */
        || sqlState.StartsWith("40", StringComparison.Ordinal) /* serialization, deadlock */
        || sqlState.StartsWith("53", StringComparison.Ordinal) /* insufficient resources */
        || sqlState.StartsWith("57", StringComparison.Ordinal) /* operator intervention, shutdown */
        || sqlState.StartsWith("58", StringComparison.Ordinal) /* system error */
        || sqlState.StartsWith("XX", StringComparison.Ordinal) /* internal error */
        || sqlState == "25P02" /* transaction aborted */;

    internal static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _gate.Dispose();
}
