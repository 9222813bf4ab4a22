using Microsoft.Data.Sqlite;
using RunLedger.Core.Storage.Transfer;

namespace RunLedger.Sqlite;

/// <summary>
/// Export and import of the whole SQLite ledger, verbatim. Exports read pages on pooled
/// connections by the tables' own keys; imports write on the writer connection (under the
/// writer's lock), one transaction per page together with the checkpoint.
/// </summary>
internal sealed partial class SqliteTransfer : ILedgerTransfer
{
    private static readonly string RunColumns =
        $"r.id, {SqliteRows.SessionIdOf("r")}, r.parent_id, r.kind, r.name, r.status, r.started_at, r.ended_at, r.model, r.provider, {SqliteRunValues.Parameters.JsonOf("r")}, " +
        "r.error_type, r.error_message, r.error_stack, r.input_tokens, r.output_tokens, r.cached_tokens, r.reasoning_tokens, r.cost_nanos, " +
        $"{SqliteRunValues.Tags.JsonOf("r")}, {SqliteRunValues.Metadata.JsonOf("r")}, r.user_id, r.source, r.pinned, r.created_at, r.updated_at, " +
        "r.input_payload, pi.hash, pi.original_size, pi.truncated, pi.encoding, pi.data, " +
        "r.output_payload, po.hash, po.original_size, po.truncated, po.encoding, po.data";

    private const string SessionColumns =
        "s.id, s.name, s.started_at, s.ended_at, s.state, s.metadata, s.run_count, s.failed_count, s.input_tokens, s.output_tokens, " +
        "s.cost_nanos, s.last_run_at, s.created_at, s.updated_at";

    private readonly SqliteLedgerStore _store;
    private readonly TimeProvider _time;

    public SqliteTransfer(SqliteLedgerStore store, TimeProvider time)
    {
        _store = store;
        _time = time;
    }

    public async Task<string> GetStoreIdAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _store.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id FROM store_identity LIMIT 1;";
        return (string?)await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException("The database has no store identity; open it with this version of RunLedger once to upgrade it.");
    }

    public async Task<TransferCounts> CountAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _store.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        return await CountAsync(connection, cancellationToken).ConfigureAwait(false);
    }

    internal static async Task<TransferCounts> CountAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText =
            "SELECT (SELECT count(*) FROM projects), (SELECT count(*) FROM api_keys), (SELECT count(*) FROM sessions), " +
            "(SELECT count(*) FROM runs), (SELECT count(*) FROM events), (SELECT count(*) FROM rollups);";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return new TransferCounts(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5));
    }

    private static object Db(object? value) => value ?? DBNull.Value;

    private static string? Text(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static long? Long(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetInt64(ordinal);

    private static byte[]? Bytes(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : (byte[])reader.GetValue(ordinal);
}
