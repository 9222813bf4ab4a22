using Npgsql;
using RunLedger.Core.Storage.Transfer;

namespace RunLedger.Postgres;

/// <summary>
/// Export and import of the whole PostgreSQL ledger, verbatim, in the order every store shares
/// (text compared with COLLATE "C", UUIDs in byte order, as on SQLite). Imports take the
/// writer's advisory lock, so they serialize with any server writing to the same database.
/// </summary>
internal sealed partial class PostgresTransfer : ILedgerTransfer
{
    private readonly PostgresLedgerStore _store;
    private readonly TimeProvider _time;

    public PostgresTransfer(PostgresLedgerStore store, TimeProvider time)
    {
        _store = store;
        _time = time;
    }

    public async Task<string> GetStoreIdAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT id FROM store_identity LIMIT 1", connection);
        return (string?)await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException("The database has no store identity; open it with this version of RunLedger once to upgrade it.");
    }

    public async Task<TransferCounts> CountAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            "SELECT (SELECT count(*) FROM projects), (SELECT count(*) FROM api_keys), (SELECT count(*) FROM sessions), " +
            "(SELECT count(*) FROM run_ids), (SELECT count(*) FROM events), (SELECT count(*) FROM rollups)",
            connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return new TransferCounts(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5));
    }

    public async Task ClearAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await PostgresWriter.ExecuteAsync(connection, $"SELECT pg_advisory_xact_lock({PostgresWriter.EventOrderLockKey})", cancellationToken).ConfigureAwait(false);
        await PostgresWriter.ExecuteAsync(
            connection,
            "TRUNCATE runs, run_ids, payloads, events, event_keys, sessions, rollups, api_keys, projects, transfer_checkpoints RESTART IDENTITY; " +
            "SELECT setval('events_id_seq', 1, false);",
            cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<long> RebuildHourlyRollupsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

        // The writers' lock: a group committing meanwhile would add to rows being replaced.
        await PostgresWriter.ExecuteAsync(connection, $"SELECT pg_advisory_xact_lock({PostgresWriter.EventOrderLockKey})", cancellationToken).ConfigureAwait(false);
        await PostgresWriter.ExecuteAsync(connection, "DELETE FROM rollups WHERE bucket_size = 3600", cancellationToken).ConfigureAwait(false);
        var written = await PostgresMigrator.AddHourlyRollupsAsync(connection, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return written;
    }

    private static object Db(object? value) => value ?? DBNull.Value;

    private static string? Text(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static long? Long(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetInt64(ordinal);

    private static byte[]? Bytes(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<byte[]>(ordinal);
}
