using System.Text;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using RunLedger.Core.Payloads;
using RunLedger.Core.Storage;
using RunLedger.Core.Storage.Transfer;

namespace RunLedger.Postgres;

internal sealed partial class PostgresTransfer
{
    private const string RunColumns =
        "project_id, id, session_id, parent_id, kind, name, status, started_at, ended_at, duration_us, model, provider, parameters, " +
        "input_hash, output_hash, error_type, error_message, error_stack, input_tokens, output_tokens, cached_tokens, reasoning_tokens, total_tokens, " +
        "cost_nanos, tags, metadata, metadata_json, user_id, source, pinned, created_at, updated_at, search";

    private static readonly string InsertRunSql =
        $"INSERT INTO runs ({RunColumns}) VALUES ({string.Join(", ", RunColumns.Split(", ").Select(c => c switch { "metadata_json" => "@metadata_json::jsonb", "search" => "@search::tsvector", _ => "@" + c }))})";

    private static readonly string[] SessionValues =
        ["name", "started_at", "ended_at", "state", "metadata", "metadata_json", "run_count", "failed_count", "input_tokens", "output_tokens", "cost_nanos", "last_run_at", "created_at", "updated_at"];

    private static readonly string UpsertSessionSql = Upsert("sessions", ["project_id", "id"], SessionValues, "metadata_json");

    public async Task<ImportResult> ImportAsync(IReadOnlyList<TransferRecord> records, TransferCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(checkpoint);
        await using var connection = await _store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await PostgresWriter.ExecuteAsync(connection, $"SELECT pg_advisory_xact_lock({PostgresWriter.EventOrderLockKey})", cancellationToken).ConfigureAwait(false);
        var context = new ImportContext(connection);
        int written = 0, skipped = 0;
        long maxEventId = 0;
        var group = new List<TransferRecord>();
        foreach (var record in records)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (record is RunRecord or EventRecord or RollupRecord)
            {
                if (group.Count > 0 && group[0].GetType() != record.GetType())
                {
                    await FlushAsync().ConfigureAwait(false);
                }

                group.Add(record);
                maxEventId = record is EventRecord ev ? Math.Max(maxEventId, ev.Id) : maxEventId;
                continue;
            }

            await FlushAsync().ConfigureAwait(false);
            if (record is RollupRangeRecord range)
            {
                context.Ranges.Add(range);
                continue;
            }

            var changed = record switch
            {
                ProjectRecord project => await ImportProjectAsync(context, project, cancellationToken).ConfigureAwait(false),
                ApiKeyRecord key => await ImportKeyAsync(context, key, cancellationToken).ConfigureAwait(false),
                SessionRecord session => await ImportSessionAsync(context, session, cancellationToken).ConfigureAwait(false),
                _ => throw new ArgumentException($"Unknown transfer record {record.GetType().Name}.", nameof(records)),
            };
            written += changed ? 1 : 0;
            skipped += changed ? 0 : 1;
        }

        await FlushAsync().ConfigureAwait(false);

        foreach (var range in context.Ranges)
        {
            written += await RemoveRollupsNotInSourceAsync(context, range, cancellationToken).ConfigureAwait(false);
        }

        if (maxEventId > 0)
        {
            // Events keep their ids: move the sequence past them so the next ingested event follows.
            await using var sequence = new NpgsqlCommand(
                "SELECT setval('events_id_seq', @max, true) WHERE @max > (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM events_id_seq)", connection);
            sequence.Parameters.AddWithValue("max", maxEventId);
            await sequence.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        if (context.KeysInserted)
        {
            await PostgresWriter.ExecuteAsync(
                connection, "SELECT setval(pg_get_serial_sequence('api_keys', 'id'), GREATEST((SELECT max(id) FROM api_keys), 1))", cancellationToken).ConfigureAwait(false);
        }

        await using (var command = new NpgsqlCommand(
            "INSERT INTO transfer_checkpoints (source, position, completed, updated_at) VALUES (@source, @position, @completed, @now) " +
            "ON CONFLICT (source) DO UPDATE SET position = excluded.position, completed = excluded.completed, updated_at = excluded.updated_at", connection))
        {
            command.Parameters.AddWithValue("source", checkpoint.SourceId);
            command.Parameters.AddWithValue("position", checkpoint.Position);
            command.Parameters.AddWithValue("completed", checkpoint.Completed);
            command.Parameters.AddWithValue("now", StorageUnits.ToMicros(_time.GetUtcNow()));
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        _store.Partitions.MarkKnown(context.CreatedPartitions);
        return new ImportResult(written, skipped);

        // Consecutive runs, events or rollups go to the database together.
        async Task FlushAsync()
        {
            if (group.Count == 0)
            {
                return;
            }

            var changed = group[0] switch
            {
                RunRecord => await ImportRunsAsync(context, [.. group.Cast<RunRecord>()], cancellationToken).ConfigureAwait(false),
                EventRecord => await ImportEventsAsync(context, [.. group.Cast<EventRecord>()], cancellationToken).ConfigureAwait(false),
                _ => await ImportRollupsAsync(context, [.. group.Cast<RollupRecord>()], cancellationToken).ConfigureAwait(false),
            };
            written += changed;
            skipped += group.Count - changed;
            group.Clear();
        }
    }

    private static async Task<bool> ImportProjectAsync(ImportContext context, ProjectRecord project, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("INSERT INTO projects (name, created_at) VALUES (@name, @created) ON CONFLICT (name) DO NOTHING", context.Connection);
        command.Parameters.AddWithValue("name", project.Name);
        command.Parameters.AddWithValue("created", project.CreatedAt);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    private static async Task<bool> ImportKeyAsync(ImportContext context, ApiKeyRecord key, CancellationToken cancellationToken)
    {
        var projectId = await context.ProjectIdAsync(key.Project, cancellationToken).ConfigureAwait(false);

        // Keep the key's id unless the target already uses it for another key.
        await using var command = new NpgsqlCommand(
            "INSERT INTO api_keys (id, project_id, name, prefix, secret_hash, scopes, created_at, revoked_at) " +
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM api_keys WHERE id = @id) THEN nextval(pg_get_serial_sequence('api_keys', 'id')) ELSE @id END, " +
            "@project, @name, @prefix, @hash, @scopes, @created, @revoked WHERE NOT EXISTS (SELECT 1 FROM api_keys WHERE secret_hash = @hash)",
            context.Connection);
        command.Parameters.AddWithValue("id", key.Id);
        command.Parameters.AddWithValue("project", projectId);
        command.Parameters.AddWithValue("name", key.Name);
        command.Parameters.AddWithValue("prefix", key.Prefix);
        command.Parameters.AddWithValue("hash", key.SecretHash);
        command.Parameters.AddWithValue("scopes", key.Scopes);
        command.Parameters.AddWithValue("created", key.CreatedAt);
        Add(command, "revoked", NpgsqlDbType.Bigint, key.RevokedAt);
        var inserted = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        context.KeysInserted |= inserted;
        return inserted;
    }

    private static async Task<bool> ImportSessionAsync(ImportContext context, SessionRecord session, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(UpsertSessionSql, context.Connection);
        var p = command.Parameters;
        p.AddWithValue("project_id", await context.ProjectIdAsync(session.Project, cancellationToken).ConfigureAwait(false));
        p.AddWithValue("id", session.Id);
        Add(command, "name", NpgsqlDbType.Text, session.Name);
        Add(command, "started_at", NpgsqlDbType.Bigint, session.StartedAt);
        Add(command, "ended_at", NpgsqlDbType.Bigint, session.EndedAt);
        p.AddWithValue("state", session.State);
        Add(command, "metadata", NpgsqlDbType.Text, session.Metadata);
        Add(command, "metadata_json", NpgsqlDbType.Text, PostgresRows.MetadataJson(session.Metadata));
        p.AddWithValue("run_count", session.RunCount);
        p.AddWithValue("failed_count", session.FailedCount);
        p.AddWithValue("input_tokens", session.InputTokens);
        p.AddWithValue("output_tokens", session.OutputTokens);
        p.AddWithValue("cost_nanos", session.CostNanos);
        Add(command, "last_run_at", NpgsqlDbType.Bigint, session.LastRunAt);
        p.AddWithValue("created_at", session.CreatedAt);
        p.AddWithValue("updated_at", session.UpdatedAt);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    private async Task<bool> ImportRunAsync(ImportContext context, RunRecord run, CancellationToken cancellationToken)
    {
        var projectId = await context.ProjectIdAsync(run.Project, cancellationToken).ConfigureAwait(false);
        long? oldStart = null;
        await using (var select = new NpgsqlCommand(
            "SELECT i.started_at, r.updated_at FROM run_ids i LEFT JOIN runs r ON r.project_id = i.project_id AND r.started_at = i.started_at AND r.id = i.id " +
            "WHERE i.project_id = @p AND i.id = @id", context.Connection))
        {
            select.Parameters.AddWithValue("p", projectId);
            select.Parameters.AddWithValue("id", run.Id);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (!reader.IsDBNull(1) && reader.GetInt64(1) == run.UpdatedAt)
                {
                    return false;
                }

                oldStart = reader.GetInt64(0);
            }
        }

        // One round trip for the bodies, the id row and the run.
        await context.EnsurePartitionAsync(_store.Partitions, "runs", run.StartedAt, cancellationToken).ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(context.Connection);
        foreach (var payload in new[] { run.Input, run.Output })
        {
            if (payload is not null)
            {
                batch.BatchCommands.Add(PayloadCommand(payload));
            }
        }

        var ids = new NpgsqlBatchCommand(oldStart is null
            ? "INSERT INTO run_ids (project_id, id, started_at) VALUES (@p, @id, @new)"
            : "DELETE FROM runs WHERE project_id = @p AND started_at = @s AND id = @id");
        ids.Parameters.AddWithValue("p", projectId);
        ids.Parameters.AddWithValue("id", run.Id);
        ids.Parameters.AddWithValue("new", run.StartedAt);
        ids.Parameters.AddWithValue("s", oldStart ?? 0);
        batch.BatchCommands.Add(ids);
        if (oldStart is not null)
        {
            var move = new NpgsqlBatchCommand("UPDATE run_ids SET started_at = @new WHERE project_id = @p AND id = @id");
            move.Parameters.AddWithValue("p", projectId);
            move.Parameters.AddWithValue("id", run.Id);
            move.Parameters.AddWithValue("new", run.StartedAt);
            batch.BatchCommands.Add(move);
        }

        var command = new NpgsqlBatchCommand(InsertRunSql);
        batch.BatchCommands.Add(command);
        var p = command.Parameters;
        p.AddWithValue("project_id", projectId);
        p.AddWithValue("id", run.Id);
        Add(p, "session_id", NpgsqlDbType.Text, run.SessionId);
        Add(p, "parent_id", NpgsqlDbType.Uuid, run.ParentId);
        p.AddWithValue("kind", run.Kind);
        Add(p, "name", NpgsqlDbType.Text, run.Name);
        p.AddWithValue("status", run.Status);
        p.AddWithValue("started_at", run.StartedAt);
        Add(p, "ended_at", NpgsqlDbType.Bigint, run.EndedAt);
        Add(p, "duration_us", NpgsqlDbType.Bigint, run.EndedAt is { } ended ? Math.Max(0, ended - run.StartedAt) : null);
        Add(p, "model", NpgsqlDbType.Text, run.Model);
        Add(p, "provider", NpgsqlDbType.Text, run.Provider);
        Add(p, "parameters", NpgsqlDbType.Text, run.Parameters);
        Add(p, "input_hash", NpgsqlDbType.Bytea, run.Input?.Key);
        Add(p, "output_hash", NpgsqlDbType.Bytea, run.Output?.Key);
        Add(p, "error_type", NpgsqlDbType.Text, run.ErrorType);
        Add(p, "error_message", NpgsqlDbType.Text, run.ErrorMessage);
        Add(p, "error_stack", NpgsqlDbType.Text, run.ErrorStack);
        Add(p, "input_tokens", NpgsqlDbType.Bigint, run.InputTokens);
        Add(p, "output_tokens", NpgsqlDbType.Bigint, run.OutputTokens);
        Add(p, "cached_tokens", NpgsqlDbType.Bigint, run.CachedTokens);
        Add(p, "reasoning_tokens", NpgsqlDbType.Bigint, run.ReasoningTokens);
        p.AddWithValue("total_tokens", (run.InputTokens ?? 0) + (run.OutputTokens ?? 0));
        Add(p, "cost_nanos", NpgsqlDbType.Bigint, run.CostNanos);
        Add(p, "tags", NpgsqlDbType.Array | NpgsqlDbType.Text, run.Tags is null ? null : JsonSerializer.Deserialize<string[]>(run.Tags));
        Add(p, "metadata", NpgsqlDbType.Text, run.Metadata);
        Add(p, "metadata_json", NpgsqlDbType.Text, PostgresRows.MetadataJson(run.Metadata));
        Add(p, "user_id", NpgsqlDbType.Text, run.UserId);
        p.AddWithValue("source", run.Source);
        p.AddWithValue("pinned", run.Pinned);
        p.AddWithValue("created_at", run.CreatedAt);
        p.AddWithValue("updated_at", run.UpdatedAt);
        Add(p, "search", NpgsqlDbType.Text, SearchVector(run)?.ToString());
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>The same search words the writer stores: input, output and error text, each cut at the indexing limit.</summary>
    private SearchVector? SearchVector(RunRecord run)
    {
        var limit = _store.Options.MaxIndexedChars;
        var text = new StringBuilder();
        // A body that cannot be decoded is copied as it is but not indexed (as the writer's indexer does).
        if (run.Input?.TryDecodeText() is { } input)
        {
            text.Append(PayloadText.ExtractSearchText(input, limit));
        }

        if (run.Output?.TryDecodeText() is { } output)
        {
            text.Append('\n').Append(PayloadText.ExtractSearchText(output, limit));
        }

        if (run.ErrorMessage is { } error)
        {
            text.Append('\n').Append(error.Length > limit ? error[..limit] : error);
        }

        return SearchText.ToVector(text.ToString());
    }

    private static NpgsqlBatchCommand PayloadCommand(PayloadRecord payload)
    {
        var command = new NpgsqlBatchCommand(
            "INSERT INTO payloads (hash, original_size, stored_size, encoding, truncated, data) VALUES (@h, @size, @stored, @enc, @trunc, @data) ON CONFLICT (hash) DO NOTHING");
        command.Parameters.AddWithValue("h", payload.Key);
        command.Parameters.AddWithValue("size", payload.OriginalSize);
        command.Parameters.AddWithValue("stored", (long)payload.Data.Length);
        command.Parameters.AddWithValue("enc", (short)payload.Encoding);
        command.Parameters.AddWithValue("trunc", payload.Truncated);
        command.Parameters.AddWithValue("data", payload.Data);
        return command;
    }

    /// <summary>Upserts a page's rollups in one statement; returns how many rows were added or changed.</summary>
    private static async Task<int> ImportRollupsAsync(ImportContext context, List<RollupRecord> rollups, CancellationToken cancellationToken)
    {
        var projectIds = new long[rollups.Count];
        for (var i = 0; i < rollups.Count; i++)
        {
            projectIds[i] = await context.ProjectIdAsync(rollups[i].Project, cancellationToken).ConfigureAwait(false);
            context.RollupKeys.Add((rollups[i].Project, RollupKey.Of(rollups[i])));
        }

        if (rollups.Select((r, i) => (projectIds[i], RollupKey.Of(r))).Distinct().Count() < rollups.Count)
        {
            // One statement may not change a row twice: a key repeated in the page goes one by one, in order.
            var changed = 0;
            foreach (var (rollup, i) in rollups.Select((r, i) => (r, i)))
            {
                changed += await UpsertRollupsAsync(context, [rollup], [projectIds[i]], cancellationToken).ConfigureAwait(false);
            }

            return changed;
        }

        return await UpsertRollupsAsync(context, rollups, projectIds, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<int> UpsertRollupsAsync(ImportContext context, List<RollupRecord> rollups, long[] projectIds, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(PostgresRollupRows.UpsertSql, context.Connection);
        PostgresRollupRows.Bind(command.Parameters, rollups, projectIds);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes the target's rollups in the range that the source did not send; returns how many.</summary>
    private static async Task<int> RemoveRollupsNotInSourceAsync(ImportContext context, RollupRangeRecord range, CancellationToken cancellationToken)
    {
        var projectId = await context.ProjectIdAsync(range.Project, cancellationToken).ConfigureAwait(false);
        var stale = new List<RollupKey>();
        await using (var select = new NpgsqlCommand(
            "SELECT bucket_size, bucket_start, kind, name, model, status FROM rollups WHERE project_id = @p" +
            (range.After is null ? string.Empty : " AND (bucket_size, bucket_start, kind, name, model, status) > (@as, @at, @ak, @an, @am, @ast)") +
            (range.Through is null ? string.Empty : " AND (bucket_size, bucket_start, kind, name, model, status) <= (@ts, @tt, @tk, @tn, @tm, @tst)"),
            context.Connection))
        {
            select.Parameters.AddWithValue("p", projectId);
            BindKey(select, "a", range.After);
            BindKey(select, "t", range.Through);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var key = new RollupKey(reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5));
                if (!context.RollupKeys.Contains((range.Project, key)))
                {
                    stale.Add(key);
                }
            }
        }

        foreach (var key in stale)
        {
            await using var delete = new NpgsqlCommand(
                "DELETE FROM rollups WHERE project_id = @p AND bucket_size = @ks AND bucket_start = @kt AND kind = @kk AND name = @kn AND model = @km AND status = @kst",
                context.Connection);
            delete.Parameters.AddWithValue("p", projectId);
            BindKey(delete, "k", key);
            await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        return stale.Count;

        static void BindKey(NpgsqlCommand command, string prefix, RollupKey? key)
        {
            if (key is null)
            {
                return;
            }

            command.Parameters.AddWithValue(prefix + "s", key.BucketSize);
            command.Parameters.AddWithValue(prefix + "t", key.BucketStart);
            command.Parameters.AddWithValue(prefix + "k", key.Kind);
            command.Parameters.AddWithValue(prefix + "n", key.Name);
            command.Parameters.AddWithValue(prefix + "m", key.Model);
            command.Parameters.AddWithValue(prefix + "st", key.Status);
        }
    }

    private static void Add(NpgsqlCommand command, string name, NpgsqlDbType type, object? value) => Add(command.Parameters, name, type, value);

    private static void Add(NpgsqlParameterCollection parameters, string name, NpgsqlDbType type, object? value) =>
        parameters.Add(new NpgsqlParameter(name, type) { Value = value ?? DBNull.Value });

    /// <summary>
    /// An insert that replaces the row's values only when one of them differs, so the number of
    /// changed rows says whether anything was written; <paramref name="fromArrays"/> takes the rows
    /// from one array parameter per column (no JSON column then).
    /// </summary>
    private static string Upsert(string table, string[] keys, string[] values, string? jsonColumn)
    {
        var columns = keys.Concat(values).ToArray();
        var source = $"VALUES ({string.Join(", ", columns.Select(c => c == jsonColumn ? $"@{c}::jsonb" : "@" + c))})";
        return $"INSERT INTO {table} ({string.Join(", ", columns)}) {source} " +
            $"ON CONFLICT ({string.Join(", ", keys)}) DO UPDATE SET {string.Join(", ", values.Select(c => $"{c} = excluded.{c}"))} " +
            $"WHERE {string.Join(" OR ", values.Where(c => c != jsonColumn).Select(c => $"{table}.{c} IS DISTINCT FROM excluded.{c}"))}";
    }

    /// <summary>The connection of one import, with the project ids resolved and partitions created so far.</summary>
    private sealed class ImportContext(NpgsqlConnection connection)
    {
        private readonly Dictionary<string, long> _projects = new(StringComparer.Ordinal);

        public NpgsqlConnection Connection => connection;

        public List<RollupRangeRecord> Ranges { get; } = [];

        public HashSet<(string Project, RollupKey Key)> RollupKeys { get; } = [];

        public List<(string Table, int Month)> CreatedPartitions { get; } = [];

        public bool KeysInserted { get; set; }

        public async Task EnsurePartitionAsync(Partitions partitions, string table, long micros, CancellationToken cancellationToken)
        {
            var month = (table, Partitions.MonthOf(micros));
            if (partitions.IsKnown(month.table, month.Item2) || CreatedPartitions.Contains(month))
            {
                return;
            }

            CreatedPartitions.AddRange(await partitions.EnsureAsync(connection, [month], cancellationToken).ConfigureAwait(false));
        }

        /// <summary>The target's id of a project, made when the target has none of that name.</summary>
        public async Task<long> ProjectIdAsync(string name, CancellationToken cancellationToken)
        {
            if (_projects.TryGetValue(name, out var id))
            {
                return id;
            }

            await using var command = new NpgsqlCommand(
                "INSERT INTO projects (name, created_at) VALUES (@name, 0) ON CONFLICT (name) DO NOTHING; SELECT id FROM projects WHERE name = @name", connection);
            command.Parameters.AddWithValue("name", name);
            id = (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            _projects[name] = id;
            return id;
        }
    }
}
