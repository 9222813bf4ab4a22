using System.Globalization;
using Microsoft.Data.Sqlite;
using RunLedger.Core.Payloads;
using RunLedger.Core.Storage;
using RunLedger.Core.Storage.Transfer;

namespace RunLedger.Sqlite;

internal sealed partial class SqliteTransfer
{
    public async Task<IReadOnlyList<ProjectRecord>> ExportProjectsAsync(CancellationToken cancellationToken)
    {
        // BINARY collation: ordinal order, as the transfer contract asks.
        return await QueryAsync(
            "SELECT name, created_at FROM projects ORDER BY name;",
            _ => { },
            r => new ProjectRecord(r.GetString(0), r.GetInt64(1)),
            cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<ApiKeyRecord>> ExportApiKeysAsync(CancellationToken cancellationToken)
    {
        return await QueryAsync(
            "SELECT k.id, p.name, k.name, k.prefix, k.secret_hash, k.scopes, k.created_at, k.revoked_at FROM api_keys k JOIN projects p ON p.id = k.project_id ORDER BY k.id;",
            _ => { },
            r => new ApiKeyRecord(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), (byte[])r.GetValue(4), r.GetInt32(5), r.GetInt64(6), Long(r, 7)),
            cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<SessionRecord>> ExportSessionsAsync(string project, string? afterId, int limit, CancellationToken cancellationToken)
    {
        var after = afterId is null ? string.Empty : "AND s.id > @after ";
        return await QueryAsync(
            $"SELECT {SessionColumns} FROM sessions s WHERE s.project_id = (SELECT id FROM projects WHERE name = @project) {after}ORDER BY s.id LIMIT @limit;",
            c =>
            {
                c.Parameters.AddWithValue("@project", project);
                c.Parameters.AddWithValue("@after", Db(afterId));
                c.Parameters.AddWithValue("@limit", limit);
            },
            r => new SessionRecord
            {
                Project = project,
                Id = r.GetString(0),
                Name = Text(r, 1),
                StartedAt = Long(r, 2),
                EndedAt = Long(r, 3),
                State = r.GetString(4),
                Metadata = Text(r, 5),
                RunCount = r.GetInt64(6),
                FailedCount = r.GetInt64(7),
                InputTokens = r.GetInt64(8),
                OutputTokens = r.GetInt64(9),
                CostNanos = r.GetInt64(10),
                LastRunAt = Long(r, 11),
                CreatedAt = r.GetInt64(12),
                UpdatedAt = r.GetInt64(13),
            },
            cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<RunRecord>> ExportRunsAsync(string project, Guid? afterId, int limit, CancellationToken cancellationToken)
    {
        var after = afterId is null ? string.Empty : "AND r.id > @after ";
        return await QueryAsync(
            $"SELECT {RunColumns} FROM runs r {SqliteRows.ValueJoins("r")} LEFT JOIN payloads pi ON pi.id = r.input_payload LEFT JOIN payloads po ON po.id = r.output_payload " +
            $"WHERE r.project_id = (SELECT id FROM projects WHERE name = @project) {after}ORDER BY r.id LIMIT @limit;",
            c =>
            {
                c.Parameters.AddWithValue("@project", project);
                c.Parameters.AddWithValue("@after", afterId is { } id ? StorageUnits.ToBytes(id) : DBNull.Value);
                c.Parameters.AddWithValue("@limit", limit);
            },
            r => new RunRecord
            {
                Project = project,
                Id = StorageUnits.ToGuid((byte[])r.GetValue(0)),
                SessionId = Text(r, 1),
                ParentId = Bytes(r, 2) is { } parent ? StorageUnits.ToGuid(parent) : null,
                Kind = r.GetString(3),
                Name = Text(r, 4),
                Status = r.GetString(5),
                StartedAt = r.GetInt64(6),
                EndedAt = Long(r, 7),
                Model = Text(r, 8),
                Provider = Text(r, 9),
                Parameters = Text(r, 10),
                ErrorType = Text(r, 11),
                ErrorMessage = Text(r, 12),
                ErrorStack = Text(r, 13),
                InputTokens = Long(r, 14),
                OutputTokens = Long(r, 15),
                CachedTokens = Long(r, 16),
                ReasoningTokens = Long(r, 17),
                CostNanos = Long(r, 18),
                Tags = Text(r, 19),
                Metadata = Text(r, 20),
                UserId = Text(r, 21),
                Source = r.GetString(22),
                Pinned = r.GetInt64(23) != 0,
                CreatedAt = r.GetInt64(24),
                UpdatedAt = r.GetInt64(25),
                Input = ReadPayload(r, 26),
                Output = ReadPayload(r, 32),
            },
            cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<RollupRecord>> ExportRollupsAsync(string project, RollupRecord? after, int limit, CancellationToken cancellationToken)
    {
        var condition = after is null ? string.Empty : $"AND {RollupRows.After} ";
        return await QueryAsync(
            $"SELECT {RollupRows.Columns} FROM rollups WHERE project_id = (SELECT id FROM projects WHERE name = @project) {condition}" +
            $"ORDER BY {RollupRows.Order} LIMIT @limit;",
            c =>
            {
                c.Parameters.AddWithValue("@project", project);
                c.Parameters.AddWithValue("@limit", limit);
                if (after is not null)
                {
                    RollupRows.BindAfter(c, after);
                }
            },
            r => RollupRows.Read(r, project),
            cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<EventRecord>> ExportEventsAsync(string project, long afterId, int limit, CancellationToken cancellationToken)
    {
        return await QueryAsync(
            $"SELECT e.id, p.name, e.type, e.time, {SqliteRows.SessionIdOf("e")}, e.run_id, e.name, e.data, e.idempotency_key " +
            "FROM events e JOIN projects p ON p.id = e.project_id WHERE e.project_id = (SELECT id FROM projects WHERE name = @project) AND e.id > @after ORDER BY e.id LIMIT @limit;",
            c =>
            {
                c.Parameters.AddWithValue("@project", project);
                c.Parameters.AddWithValue("@after", afterId);
                c.Parameters.AddWithValue("@limit", limit);
            },
            r =>
            {
                var runId = Bytes(r, 5) is { } run ? StorageUnits.ToGuid(run) : (Guid?)null;
                var name = Text(r, 6);

                // A packed run event is exported whole, with its type, as the API returns it.
                var (type, data) = SqliteRunEvents.TypeAndData(r.GetString(2), r.GetValue(7), runId, name);
                return new EventRecord
                {
                    Id = r.GetInt64(0),
                    Project = r.GetString(1),
                    Type = type,
                    Time = r.GetInt64(3),
                    SessionId = Text(r, 4),
                    RunId = runId,
                    Name = name,
                    Data = data,
                    IdempotencyKey = Text(r, 8),
                };
            },
            cancellationToken).ConfigureAwait(false);
    }

    public async Task<TransferCheckpoint?> ReadCheckpointAsync(string sourceId, CancellationToken cancellationToken)
    {
        var found = await QueryAsync(
            "SELECT position, completed FROM transfer_checkpoints WHERE source = @source;",
            c => c.Parameters.AddWithValue("@source", sourceId),
            r => new TransferCheckpoint(sourceId, r.GetString(0), r.GetInt64(1) != 0),
            cancellationToken).ConfigureAwait(false);
        return found.Count == 0 ? null : found[0];
    }

    /// <summary>
    /// A run's body as a transfer record. A body compressed with one of this ledger's dictionaries is
    /// sent recompressed on its own (Brotli), so the record reads anywhere: in another store, or in a
    /// logical backup file. A body that cannot be decoded is sent byte for byte, as kept.
    /// </summary>
    private PayloadRecord? ReadPayload(SqliteDataReader r, int o)
    {
        if (r.IsDBNull(o))
        {
            return null;
        }

        if (r.IsDBNull(o + 1))
        {
            throw new InvalidDataException(string.Create(
                CultureInfo.InvariantCulture,
                $"A run refers to body row {r.GetInt64(o)}, which is missing from the payloads table."));
        }

        var encoding = (PayloadEncoding)r.GetInt32(o + 4);
        var data = (byte[])r.GetValue(o + 5);
        if (encoding == PayloadEncoding.ZstdDictionary)
        {
            try
            {
                (encoding, data) = PayloadCodec.Compress(PayloadCodec.Utf8Of(encoding, data, _store.Dictionaries).ToArray(), _store.PayloadOptions, null);
            }
            catch (InvalidDataException)
            {
                // Undecodable here (damaged, or its dictionary is missing): copied as kept.
            }
        }

        return new PayloadRecord((byte[])r.GetValue(o + 1), r.GetInt64(o + 2), r.GetInt64(o + 3) != 0, encoding, data);
    }

    private async Task<List<T>> QueryAsync<T>(string sql, Action<SqliteCommand> bind, Func<SqliteDataReader, T> read, CancellationToken cancellationToken)
    {
        await using var connection = await _store.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        bind(command);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var list = new List<T>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(read(reader));
        }

        return list;
    }
}
