using System.Text;
using Microsoft.Data.Sqlite;
using RunLedger.Core.Payloads;
using RunLedger.Core.Storage;
using RunLedger.Core.Storage.Transfer;

namespace RunLedger.Sqlite;

internal sealed partial class SqliteTransfer
{
    private const string RunWriteColumns =
        "project_id, id, session_key, parent_id, kind, name, status, started_at, ended_at, duration_us, model, provider, parameters_key, " +
        "input_payload, output_payload, error_type, error_message, error_stack, input_tokens, output_tokens, cached_tokens, reasoning_tokens, " +
        "total_tokens, cost_nanos, tags_key, metadata_key, user_id, source, pinned, created_at, updated_at";

    private static readonly string InsertRunSql =
        $"INSERT INTO runs ({RunWriteColumns}) VALUES ({string.Join(", ", RunWriteColumns.Split(", ").Select(c => "@" + c))}) RETURNING seq;";

    private static readonly string UpdateRunSql =
        $"UPDATE runs SET {string.Join(", ", RunWriteColumns.Split(", ").Skip(2).Select(c => c + " = @" + c))} WHERE seq = @seq;";

    private static readonly string UpsertSessionSql = Upsert(
        "sessions",
        ["project_id", "id"],
        ["name", "started_at", "ended_at", "state", "metadata", "run_count", "failed_count", "input_tokens", "output_tokens", "cost_nanos", "last_run_at", "created_at", "updated_at"]);

    private static readonly string UpsertRollupSql = Upsert(
        "rollups",
        ["project_id", "bucket_size", "bucket_start", "kind", "name", "model", "status"],
        ["count", "errors", "input_tokens", "output_tokens", "cost_nanos", "duration_count", "duration_sum", "duration_min", "duration_max", "histogram"]);

    public Task<ImportResult> ImportAsync(IReadOnlyList<TransferRecord> records, TransferCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(checkpoint);
        return _store.WithWriterAsync(connection => Task.FromResult(Import(connection, records, checkpoint, cancellationToken)));
    }

    public Task ClearAsync(CancellationToken cancellationToken) => _store.WithWriterAsync(async connection =>
    {
        using var transaction = connection.BeginTransaction(deferred: false);
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText =
            // The runs' seqs will be reused: a new token tells search and the indexer that no entry
            // of the index file describes this ledger any more (the indexer empties it).
            // The value tables first: the triggers that count a deleted run's values then find no entry.
            "DELETE FROM run_metadata; DELETE FROM run_parameters; DELETE FROM run_tags; DELETE FROM runs; DELETE FROM fts_pending; UPDATE fts_owner SET token = randomblob(16) WHERE id = 1; " +
            "DELETE FROM payloads; DELETE FROM events; " +
            "DELETE FROM sqlite_sequence WHERE name = 'events'; DELETE FROM sessions; DELETE FROM session_keys; DELETE FROM rollups; DELETE FROM api_keys; " +
            "DELETE FROM projects; DELETE FROM transfer_checkpoints;";
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return 0;
    });

    public Task<long> RebuildHourlyRollupsAsync(CancellationToken cancellationToken) => _store.WithWriterAsync(async connection =>
    {
        using var transaction = connection.BeginTransaction(deferred: false);
        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = "DELETE FROM rollups WHERE bucket_size = 3600;";
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        var written = await SqliteMigrator.AddHourlyRollupsAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return written;
    });

    private ImportResult Import(SqliteConnection connection, IReadOnlyList<TransferRecord> records, TransferCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        using var transaction = connection.BeginTransaction(deferred: false);
        using var context = new ImportContext(connection, transaction);
        int written = 0, skipped = 0;
        foreach (var record in records)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (record is RollupRangeRecord range)
            {
                context.Ranges.Add(range);
                continue;
            }

            var changed = record switch
            {
                ProjectRecord project => ImportProject(context, project),
                ApiKeyRecord key => ImportKey(context, key),
                SessionRecord session => ImportSession(context, session),
                RunRecord run => ImportRun(context, run),
                EventRecord e => ImportEvent(context, e),
                RollupRecord rollup => ImportRollup(context, rollup),
                _ => throw new ArgumentException($"Unknown transfer record {record.GetType().Name}.", nameof(records)),
            };
            written += changed ? 1 : 0;
            skipped += changed ? 0 : 1;
        }

        foreach (var range in context.Ranges)
        {
            written += RemoveRollupsNotInSource(context, range);
        }

        context.ApplyValueCounts();

        var checkpointCommand = context.Command(
            "INSERT OR REPLACE INTO transfer_checkpoints (source, position, completed, updated_at) VALUES (@source, @position, @completed, @now);");
        {
            checkpointCommand.Parameters.AddWithValue("@source", checkpoint.SourceId);
            checkpointCommand.Parameters.AddWithValue("@position", checkpoint.Position);
            checkpointCommand.Parameters.AddWithValue("@completed", checkpoint.Completed ? 1 : 0);
            checkpointCommand.Parameters.AddWithValue("@now", StorageUnits.ToMicros(_time.GetUtcNow()));
            checkpointCommand.ExecuteNonQuery();
        }

        transaction.Commit();
        return new ImportResult(written, skipped);
    }

    private static bool ImportProject(ImportContext context, ProjectRecord project)
    {
        var command = context.Command("INSERT OR IGNORE INTO projects (name, created_at) VALUES (@name, @created);");
        command.Parameters.AddWithValue("@name", project.Name);
        command.Parameters.AddWithValue("@created", project.CreatedAt);
        return command.ExecuteNonQuery() == 1;
    }

    private static bool ImportKey(ImportContext context, ApiKeyRecord key)
    {
        // Keep the key's id unless the target already uses it for another key.
        var command = context.Command(
            "INSERT INTO api_keys (id, project_id, name, prefix, secret_hash, scopes, created_at, revoked_at) " +
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM api_keys WHERE id = @id) THEN NULL ELSE @id END, @project, @name, @prefix, @hash, @scopes, @created, @revoked " +
            "WHERE NOT EXISTS (SELECT 1 FROM api_keys WHERE secret_hash = @hash);");
        command.Parameters.AddWithValue("@id", key.Id);
        command.Parameters.AddWithValue("@project", context.ProjectId(key.Project));
        command.Parameters.AddWithValue("@name", key.Name);
        command.Parameters.AddWithValue("@prefix", key.Prefix);
        command.Parameters.AddWithValue("@hash", key.SecretHash);
        command.Parameters.AddWithValue("@scopes", key.Scopes);
        command.Parameters.AddWithValue("@created", key.CreatedAt);
        command.Parameters.AddWithValue("@revoked", Db(key.RevokedAt));
        return command.ExecuteNonQuery() == 1;
    }

    private static bool ImportSession(ImportContext context, SessionRecord session)
    {
        var command = context.Command(UpsertSessionSql);
        command.Parameters.AddWithValue("@project_id", context.ProjectId(session.Project));
        command.Parameters.AddWithValue("@id", session.Id);
        command.Parameters.AddWithValue("@name", Db(session.Name));
        command.Parameters.AddWithValue("@started_at", Db(session.StartedAt));
        command.Parameters.AddWithValue("@ended_at", Db(session.EndedAt));
        command.Parameters.AddWithValue("@state", session.State);
        command.Parameters.AddWithValue("@metadata", Db(session.Metadata));
        command.Parameters.AddWithValue("@run_count", session.RunCount);
        command.Parameters.AddWithValue("@failed_count", session.FailedCount);
        command.Parameters.AddWithValue("@input_tokens", session.InputTokens);
        command.Parameters.AddWithValue("@output_tokens", session.OutputTokens);
        command.Parameters.AddWithValue("@cost_nanos", session.CostNanos);
        command.Parameters.AddWithValue("@last_run_at", Db(session.LastRunAt));
        command.Parameters.AddWithValue("@created_at", session.CreatedAt);
        command.Parameters.AddWithValue("@updated_at", session.UpdatedAt);
        return command.ExecuteNonQuery() == 1;
    }

    private bool ImportRun(ImportContext context, RunRecord run)
    {
        var projectId = context.ProjectId(run.Project);
        var id = StorageUnits.ToBytes(run.Id);
        long? seq = null;
        var oldKeys = new long?[SqliteRunValues.All.Count];
        var select = context.Command($"SELECT seq, updated_at, {string.Join(", ", SqliteRunValues.All.Select(v => v.Column))} FROM runs WHERE project_id = @p AND id = @id;");
        {
            select.Parameters.AddWithValue("@p", projectId);
            select.Parameters.AddWithValue("@id", id);
            using var reader = select.ExecuteReader();
            if (reader.Read())
            {
                if (reader.GetInt64(1) == run.UpdatedAt)
                {
                    return false;
                }

                seq = reader.GetInt64(0);
                for (var i = 0; i < oldKeys.Length; i++)
                {
                    oldKeys[i] = reader.IsDBNull(2 + i) ? null : reader.GetInt64(2 + i);
                }
            }
        }

        var input = ImportPayload(context, run.Input);
        var output = ImportPayload(context, run.Output);
        var sessionKey = SessionKey(context, projectId, run.SessionId);
        var keys = new[]
        {
            context.ValueKey(SqliteRunValues.Metadata, projectId, run.Metadata),
            context.ValueKey(SqliteRunValues.Parameters, projectId, run.Parameters),
            context.ValueKey(SqliteRunValues.Tags, projectId, run.Tags),
        };
        foreach (var values in SqliteRunValues.All)
        {
            context.CountValue(values, oldKeys[values.Index], -1);
            context.CountValue(values, keys[values.Index], +1);
        }

        var command = context.Command(seq is null ? InsertRunSql : UpdateRunSql);
        {
            BindRun(command, projectId, id, sessionKey, keys, run, input, output);
            if (seq is { } existing)
            {
                command.Parameters.AddWithValue("@seq", existing);
                command.ExecuteNonQuery();
                // Its old text must not match any more: search reads it from its bodies until
                // the indexer has replaced it (new runs are above the index's mark anyway).
                var pending = context.Command("INSERT INTO fts_pending (seq, gen) VALUES (@seq, 1) ON CONFLICT (seq) DO UPDATE SET gen = gen + 1;");
                pending.Parameters.AddWithValue("@seq", existing);
                pending.ExecuteNonQuery();
            }
            else
            {
                command.ExecuteNonQuery();
            }
        }

        return true;
    }

    /// <summary>The row of a run's body: the one already stored under the record's key, or a new one.</summary>
    private static long? ImportPayload(ImportContext context, PayloadRecord? payload)
    {
        if (payload is null)
        {
            return null;
        }

        var find = context.Command(SqlitePayloads.FindSql);
        find.Parameters.AddWithValue("@hash", payload.Key);
        if (find.ExecuteScalar() is long found)
        {
            return found;
        }

        var insert = context.Command(SqlitePayloads.InsertSql);
        insert.Parameters.AddWithValue("@hash", payload.Key);
        insert.Parameters.AddWithValue("@size", payload.OriginalSize);
        insert.Parameters.AddWithValue("@encoding", (int)payload.Encoding);
        insert.Parameters.AddWithValue("@truncated", payload.Truncated ? 1 : 0);
        insert.Parameters.AddWithValue("@data", payload.Data);
        insert.ExecuteNonQuery();
        return (long)context.Command("SELECT last_insert_rowid();").ExecuteScalar()!;
    }

    private static void BindRun(SqliteCommand command, long projectId, byte[] id, long? sessionKey, long?[] keys, RunRecord run, long? input, long? output)
    {
        var p = command.Parameters;
        p.AddWithValue("@project_id", projectId);
        p.AddWithValue("@id", id);
        p.AddWithValue("@session_key", sessionKey is { } key ? key : DBNull.Value);
        p.AddWithValue("@parent_id", run.ParentId is { } parent ? StorageUnits.ToBytes(parent) : DBNull.Value);
        p.AddWithValue("@kind", run.Kind);
        p.AddWithValue("@name", Db(run.Name));
        p.AddWithValue("@status", run.Status);
        p.AddWithValue("@started_at", run.StartedAt);
        p.AddWithValue("@ended_at", Db(run.EndedAt));
        p.AddWithValue("@duration_us", run.EndedAt is { } ended ? Math.Max(0, ended - run.StartedAt) : DBNull.Value);
        p.AddWithValue("@model", Db(run.Model));
        p.AddWithValue("@provider", Db(run.Provider));
        p.AddWithValue("@parameters_key", Db(keys[SqliteRunValues.Parameters.Index]));
        p.AddWithValue("@input_payload", Db(input));
        p.AddWithValue("@output_payload", Db(output));
        p.AddWithValue("@error_type", Db(run.ErrorType));
        p.AddWithValue("@error_message", Db(run.ErrorMessage));
        p.AddWithValue("@error_stack", Db(run.ErrorStack));
        p.AddWithValue("@input_tokens", Db(run.InputTokens));
        p.AddWithValue("@output_tokens", Db(run.OutputTokens));
        p.AddWithValue("@cached_tokens", Db(run.CachedTokens));
        p.AddWithValue("@reasoning_tokens", Db(run.ReasoningTokens));
        p.AddWithValue("@total_tokens", (run.InputTokens ?? 0) + (run.OutputTokens ?? 0));
        p.AddWithValue("@cost_nanos", Db(run.CostNanos));
        p.AddWithValue("@tags_key", Db(keys[SqliteRunValues.Tags.Index]));
        p.AddWithValue("@metadata_key", Db(keys[SqliteRunValues.Metadata.Index]));
        p.AddWithValue("@user_id", Db(run.UserId));
        p.AddWithValue("@source", run.Source);
        p.AddWithValue("@pinned", run.Pinned ? 1 : 0);
        p.AddWithValue("@created_at", run.CreatedAt);
        p.AddWithValue("@updated_at", run.UpdatedAt);
    }

    /// <summary>The key of a session id in a project, made when the id is named for the first time (as the writer does).</summary>
    private static long? SessionKey(ImportContext context, long projectId, string? sessionId)
    {
        if (sessionId is null)
        {
            return null;
        }

        // A page's runs and events name few sessions: each key is looked up once per page.
        if (context.SessionKeys.TryGetValue((projectId, sessionId), out var known))
        {
            return known;
        }

        var insert = context.Command("INSERT INTO session_keys (project_id, id) VALUES (@p, @id) ON CONFLICT DO NOTHING;");
        insert.Parameters.AddWithValue("@p", projectId);
        insert.Parameters.AddWithValue("@id", sessionId);
        insert.ExecuteNonQuery();
        var select = context.Command("SELECT key FROM session_keys WHERE project_id = @p AND id = @id;");
        select.Parameters.AddWithValue("@p", projectId);
        select.Parameters.AddWithValue("@id", sessionId);
        var key = (long)select.ExecuteScalar()!;
        context.SessionKeys[(projectId, sessionId)] = key;
        return key;
    }

    private static bool ImportEvent(ImportContext context, EventRecord e)
    {
        var projectId = context.ProjectId(e.Project);
        var sessionKey = SessionKey(context, projectId, e.SessionId);
        var command = context.Command(
            "INSERT OR IGNORE INTO events (id, project_id, type, time, session_key, run_id, name, data, idempotency_key) " +
            "VALUES (@id, @p, @type, @time, @session, @run, @name, @data, @key);");
        command.Parameters.AddWithValue("@id", e.Id);
        command.Parameters.AddWithValue("@p", projectId);
        // A run event arrives whole (as every store exports it); kept packed like the writer's own
        // when that reads back exactly the same (SqliteRunEvents).
        var packed = e is { RunId: { } runId, IdempotencyKey: null, Data: { } text } && e.Type.StartsWith("run.", StringComparison.Ordinal)
            ? SqliteRunEvents.Pack(e.Type, text, runId, e.Name)
            : null;
        command.Parameters.AddWithValue("@type", packed is null ? e.Type : string.Empty);
        command.Parameters.AddWithValue("@time", e.Time);
        command.Parameters.AddWithValue("@session", sessionKey is { } key ? key : DBNull.Value);
        command.Parameters.AddWithValue("@run", e.RunId is { } run ? StorageUnits.ToBytes(run) : DBNull.Value);
        command.Parameters.AddWithValue("@name", Db(e.Name));
        command.Parameters.AddWithValue("@data", packed ?? Db(e.Data));
        command.Parameters.AddWithValue("@key", Db(e.IdempotencyKey));
        return command.ExecuteNonQuery() == 1;
    }

    private static bool ImportRollup(ImportContext context, RollupRecord rollup)
    {
        context.RollupKeys.Add((rollup.Project, RollupKey.Of(rollup)));
        var command = context.Command(UpsertRollupSql);
        var p = command.Parameters;
        p.AddWithValue("@project_id", context.ProjectId(rollup.Project));
        p.AddWithValue("@bucket_size", rollup.BucketSize);
        p.AddWithValue("@bucket_start", rollup.BucketStart);
        p.AddWithValue("@kind", rollup.Kind);
        p.AddWithValue("@name", rollup.Name);
        p.AddWithValue("@model", rollup.Model);
        p.AddWithValue("@status", rollup.Status);
        p.AddWithValue("@count", rollup.Count);
        p.AddWithValue("@errors", rollup.Errors);
        p.AddWithValue("@input_tokens", rollup.InputTokens);
        p.AddWithValue("@output_tokens", rollup.OutputTokens);
        p.AddWithValue("@cost_nanos", rollup.CostNanos);
        p.AddWithValue("@duration_count", rollup.DurationCount);
        p.AddWithValue("@duration_sum", rollup.DurationSum);
        p.AddWithValue("@duration_min", Db(rollup.DurationMin));
        p.AddWithValue("@duration_max", Db(rollup.DurationMax));
        p.AddWithValue("@histogram", Db(rollup.Histogram));
        return command.ExecuteNonQuery() == 1;
    }

    /// <summary>Deletes the target's rollups in the range that the source did not send; returns how many.</summary>
    private static int RemoveRollupsNotInSource(ImportContext context, RollupRangeRecord range)
    {
        var projectId = context.ProjectId(range.Project);
        var stale = new List<RollupKey>();
        var select = context.Command(
            "SELECT bucket_size, bucket_start, kind, name, model, status FROM rollups WHERE project_id = @p" +
            (range.After is null ? string.Empty : " AND (bucket_size, bucket_start, kind, name, model, status) > (@as, @at, @ak, @an, @am, @ast)") +
            (range.Through is null ? string.Empty : " AND (bucket_size, bucket_start, kind, name, model, status) <= (@ts, @tt, @tk, @tn, @tm, @tst)") + ";");
        {
            select.Parameters.AddWithValue("@p", projectId);
            BindKey(select, "@a", range.After);
            BindKey(select, "@t", range.Through);
            using var reader = select.ExecuteReader();
            while (reader.Read())
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
            var delete = context.Command(
                "DELETE FROM rollups WHERE project_id = @p AND bucket_size = @ks AND bucket_start = @kt AND kind = @kk AND name = @kn AND model = @km AND status = @kst;");
            delete.Parameters.AddWithValue("@p", projectId);
            BindKey(delete, "@k", key);
            delete.ExecuteNonQuery();
        }

        return stale.Count;

        static void BindKey(SqliteCommand command, string prefix, RollupKey? key)
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

    /// <summary>
    /// An insert that replaces the row's values only when one of them differs, so the number of
    /// changed rows says whether anything was written.
    /// </summary>
    private static string Upsert(string table, string[] keys, string[] values)
    {
        var columns = keys.Concat(values).ToArray();
        return $"INSERT INTO {table} ({string.Join(", ", columns)}) VALUES ({string.Join(", ", columns.Select(c => "@" + c))}) " +
            $"ON CONFLICT ({string.Join(", ", keys)}) DO UPDATE SET {string.Join(", ", values.Select(c => $"{c} = excluded.{c}"))} " +
            $"WHERE {string.Join(" OR ", values.Select(c => $"{table}.{c} IS NOT excluded.{c}"))};";
    }

    /// <summary>
    /// The connection and transaction of one import, with the project ids resolved so far and
    /// one prepared command per statement, reused for every record of the page.
    /// </summary>
    private sealed class ImportContext(SqliteConnection connection, SqliteTransaction transaction) : IDisposable
    {
        private readonly Dictionary<string, long> _projects = new(StringComparer.Ordinal);
        private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

        /// <summary>The rollup ranges the page speaks for, checked once its rollups are written.</summary>
        public List<RollupRangeRecord> Ranges { get; } = [];

        /// <summary>The rollups the page holds.</summary>
        public HashSet<(string Project, RollupKey Key)> RollupKeys { get; } = [];

        /// <summary>Session keys looked up or made in this page's transaction (see <c>SessionKey</c>).</summary>
        public Dictionary<(long ProjectId, string SessionId), long> SessionKeys { get; } = [];

        /// <summary>Changes of the run counts of metadata, parameters and tags entries this page makes (see <see cref="ApplyValueCounts"/>).</summary>
        private readonly Dictionary<long, long>[] _valueCounts = [[], [], []];
        private readonly SqliteRunMetadata.Statements?[] _values = new SqliteRunMetadata.Statements?[3];

        /// <summary>The key of a project's metadata, parameters or tags text (made when the project has no such entry), or null for none.</summary>
        public long? ValueKey(SqliteRunValues values, long projectId, string? text)
        {
            if (text is null)
            {
                return null;
            }

            var key = Statements(values).KeyOf(projectId, Encoding.UTF8.GetBytes(text), out var made);
            if (made)
            {
                CountValue(values, key, 0);
            }

            return key;
        }

        public void CountValue(SqliteRunValues values, long? key, long delta)
        {
            if (key is { } k)
            {
                var counts = _valueCounts[values.Index];
                counts[k] = counts.GetValueOrDefault(k) + delta;
            }
        }

        /// <summary>Writes the page's changes of run counts (in its transaction, before the commit).</summary>
        public void ApplyValueCounts()
        {
            foreach (var values in SqliteRunValues.All)
            {
                if (_valueCounts[values.Index].Count > 0)
                {
                    Statements(values).ApplyCounts(_valueCounts[values.Index]);
                }
            }
        }

        private SqliteRunMetadata.Statements Statements(SqliteRunValues values) =>
            _values[values.Index] ??= new SqliteRunMetadata.Statements(connection, values);

        /// <summary>The command for <paramref name="sql"/>, its parameters cleared; the context disposes it.</summary>
        public SqliteCommand Command(string sql)
        {
            if (_commands.TryGetValue(sql, out var command))
            {
                command.Parameters.Clear();
                return command;
            }

            command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = sql;
            _commands[sql] = command;
            return command;
        }

        public void Dispose()
        {
            foreach (var command in _commands.Values)
            {
                command.Dispose();
            }

            foreach (var statements in _values)
            {
                statements?.Dispose();
            }
        }

        /// <summary>The target's id of a project, made when the target has none of that name.</summary>
        public long ProjectId(string name)
        {
            if (_projects.TryGetValue(name, out var id))
            {
                return id;
            }

            var insert = Command("INSERT OR IGNORE INTO projects (name, created_at) VALUES (@name, @now);");
            {
                insert.Parameters.AddWithValue("@name", name);
                insert.Parameters.AddWithValue("@now", 0L);
                insert.ExecuteNonQuery();
            }

            var select = Command("SELECT id FROM projects WHERE name = @name;");
            select.Parameters.AddWithValue("@name", name);
            id = (long)select.ExecuteScalar()!;
            _projects[name] = id;
            return id;
        }
    }
}
