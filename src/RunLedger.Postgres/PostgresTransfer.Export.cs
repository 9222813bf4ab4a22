using System.Globalization;
using System.Text.Json;
using Npgsql;
using RunLedger.Core.Payloads;
using RunLedger.Core.Storage.Transfer;

namespace RunLedger.Postgres;

internal sealed partial class PostgresTransfer
{
    private const string ProjectId = "(SELECT id FROM projects WHERE name = @project)";

    public async Task<IReadOnlyList<ProjectRecord>> ExportProjectsAsync(CancellationToken cancellationToken) =>
        await QueryAsync(
            "SELECT name, created_at FROM projects ORDER BY name",
            _ => { },
            r => new ProjectRecord(r.GetString(0), r.GetInt64(1)),
            cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyList<ApiKeyRecord>> ExportApiKeysAsync(CancellationToken cancellationToken) =>
        await QueryAsync(
            "SELECT k.id, p.name, k.name, k.prefix, k.secret_hash, k.scopes, k.created_at, k.revoked_at FROM api_keys k JOIN projects p ON p.id = k.project_id ORDER BY k.id",
            _ => { },
            r => new ApiKeyRecord(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetFieldValue<byte[]>(4), r.GetInt32(5), r.GetInt64(6), Long(r, 7)),
            cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyList<SessionRecord>> ExportSessionsAsync(string project, string? afterId, int limit, CancellationToken cancellationToken) =>
        await QueryAsync(
            "SELECT id, name, started_at, ended_at, state, metadata, run_count, failed_count, input_tokens, output_tokens, cost_nanos, last_run_at, created_at, updated_at " +
            $"FROM sessions WHERE project_id = {ProjectId}{(afterId is null ? string.Empty : " AND id > @after")} ORDER BY id LIMIT @limit",
            c =>
            {
                c.Parameters.AddWithValue("project", project);
                c.Parameters.AddWithValue("after", Db(afterId));
                c.Parameters.AddWithValue("limit", limit);
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

    public async Task<IReadOnlyList<RunRecord>> ExportRunsAsync(string project, Guid? afterId, int limit, CancellationToken cancellationToken) =>
        await QueryAsync(
            // run_ids is ordered by id and names the partition (started_at) of each run.
            "SELECT r.id, r.session_id, r.parent_id, r.kind, r.name, r.status, r.started_at, r.ended_at, r.model, r.provider, r.parameters, " +
            "r.error_type, r.error_message, r.error_stack, r.input_tokens, r.output_tokens, r.cached_tokens, r.reasoning_tokens, r.cost_nanos, " +
            "r.tags, r.metadata, r.user_id, r.source, r.pinned, r.created_at, r.updated_at, " +
            "r.input_hash, pi.original_size, pi.truncated, pi.encoding, pi.data, r.output_hash, po.original_size, po.truncated, po.encoding, po.data " +
            "FROM run_ids i JOIN runs r ON r.project_id = i.project_id AND r.started_at = i.started_at AND r.id = i.id " +
            "LEFT JOIN payloads pi ON pi.hash = r.input_hash LEFT JOIN payloads po ON po.hash = r.output_hash " +
            $"WHERE i.project_id = {ProjectId}{(afterId is null ? string.Empty : " AND i.id > @after")} ORDER BY i.id LIMIT @limit",
            c =>
            {
                c.Parameters.AddWithValue("project", project);
                c.Parameters.AddWithValue("after", afterId ?? Guid.Empty);
                c.Parameters.AddWithValue("limit", limit);
            },
            r => new RunRecord
            {
                Project = project,
                Id = r.GetGuid(0),
                SessionId = Text(r, 1),
                ParentId = r.IsDBNull(2) ? null : r.GetGuid(2),
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
                // The same JSON text the SQLite store keeps, so checksums agree across stores.
                Tags = r.IsDBNull(19) ? null : JsonSerializer.Serialize(r.GetFieldValue<string[]>(19)),
                Metadata = Text(r, 20),
                UserId = Text(r, 21),
                Source = r.GetString(22),
                Pinned = r.GetBoolean(23),
                CreatedAt = r.GetInt64(24),
                UpdatedAt = r.GetInt64(25),
                Input = ReadPayload(r, 26),
                Output = ReadPayload(r, 31),
            },
            cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyList<RollupRecord>> ExportRollupsAsync(string project, RollupRecord? after, int limit, CancellationToken cancellationToken) =>
        await QueryAsync(
            $"SELECT {RollupRows.Columns} FROM rollups WHERE project_id = {ProjectId}" +
            (after is null ? string.Empty : $" AND {RollupRows.After}") +
            $" ORDER BY {RollupRows.Order} LIMIT @limit",
            c =>
            {
                c.Parameters.AddWithValue("project", project);
                c.Parameters.AddWithValue("limit", limit);
                if (after is not null)
                {
                    RollupRows.BindAfter(c, after);
                }
            },
            r => RollupRows.Read(r, project),
            cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyList<EventRecord>> ExportEventsAsync(string project, long afterId, int limit, CancellationToken cancellationToken) =>
        await QueryAsync(
            "SELECT id, type, time, session_id, run_id, name, data, idempotency_key " +
            $"FROM events WHERE project_id = {ProjectId} AND id > @after ORDER BY id LIMIT @limit",
            c =>
            {
                c.Parameters.AddWithValue("project", project);
                c.Parameters.AddWithValue("after", afterId);
                c.Parameters.AddWithValue("limit", limit);
            },
            r => new EventRecord
            {
                Id = r.GetInt64(0),
                Project = project,
                Type = r.GetString(1),
                Time = r.GetInt64(2),
                SessionId = Text(r, 3),
                RunId = r.IsDBNull(4) ? null : r.GetGuid(4),
                Name = Text(r, 5),
                Data = Text(r, 6),
                IdempotencyKey = Text(r, 7),
            },
            cancellationToken).ConfigureAwait(false);

    public async Task<TransferCheckpoint?> ReadCheckpointAsync(string sourceId, CancellationToken cancellationToken)
    {
        var found = await QueryAsync(
            "SELECT position, completed FROM transfer_checkpoints WHERE source = @source",
            c => c.Parameters.AddWithValue("source", sourceId),
            r => new TransferCheckpoint(sourceId, r.GetString(0), r.GetBoolean(1)),
            cancellationToken).ConfigureAwait(false);
        return found.Count == 0 ? null : found[0];
    }

    private static PayloadRecord? ReadPayload(NpgsqlDataReader r, int o)
    {
        if (r.IsDBNull(o))
        {
            return null;
        }

        if (r.IsDBNull(o + 1))
        {
            throw new InvalidDataException(string.Create(
                CultureInfo.InvariantCulture,
                $"A run refers to body {Convert.ToHexStringLower(r.GetFieldValue<byte[]>(o))}, which is missing from the payloads table."));
        }

        return new PayloadRecord(r.GetFieldValue<byte[]>(o), r.GetInt64(o + 1), r.GetBoolean(o + 2), (PayloadEncoding)r.GetInt16(o + 3), r.GetFieldValue<byte[]>(o + 4));
    }

    private async Task<List<T>> QueryAsync<T>(string sql, Action<NpgsqlCommand> bind, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken)
    {
        await using var connection = await _store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection);
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
