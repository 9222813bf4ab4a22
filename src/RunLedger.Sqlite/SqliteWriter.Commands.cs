using Microsoft.Data.Sqlite;

namespace RunLedger.Sqlite;

internal sealed partial class SqliteWriter
{
    /// <summary>The writer's statements, prepared once and reused for every row.</summary>
    private sealed class Commands : IDisposable
    {
        private readonly List<SqliteCommand> _all = [];
        private readonly List<RawStatement> _raw = [];

        public Commands(SqliteConnection connection)
        {
            SelectRun = Make(
                connection,
                $"SELECT {SqliteRows.RunColumnsOf("r")}, {string.Join(", ", SqliteRunValues.All.Select(v => "r." + v.Column))} FROM {SqliteRows.RunsFrom("r")} WHERE r.project_id = @p AND r.id = @id;",
                "@p", "@id");
            InsertRun = MakeRaw(
                connection,
                "INSERT INTO runs (project_id, id, session_key, parent_id, kind, name, status, started_at, ended_at, duration_us, model, provider, parameters_key, " +
                "input_payload, output_payload, error_type, error_message, error_stack, input_tokens, output_tokens, cached_tokens, reasoning_tokens, total_tokens, " +
                "cost_nanos, tags_key, metadata_key, user_id, source, pinned, created_at, updated_at) VALUES (@p, @id, @session, @parent, @kind, @name, @status, " +
                "@started, @ended, @duration, @model, @provider, @parameters, @input, @output, @etype, @emessage, @estack, @itok, @otok, @ctok, @rtok, " +
                "@ttok, @cost, @tags, @mkey, @user, @source, @pinned, @created, @updated) ON CONFLICT (project_id, id) DO NOTHING;");
            InsertRunPositions = [.. RunParameters.Select(InsertRun.Position)];
            UpdateRun = Make(
                connection,
                "UPDATE runs SET session_key = @session, parent_id = @parent, kind = @kind, name = @name, status = @status, started_at = @started, " +
                "ended_at = @ended, duration_us = @duration, model = @model, provider = @provider, parameters_key = @parameters, input_payload = @input, " +
                "output_payload = @output, error_type = @etype, error_message = @emessage, error_stack = @estack, input_tokens = @itok, output_tokens = @otok, " +
                "cached_tokens = @ctok, reasoning_tokens = @rtok, total_tokens = @ttok, cost_nanos = @cost, tags_key = @tags, metadata_key = @mkey, " +
                "user_id = @user, source = @source, pinned = @pinned, updated_at = @updated WHERE seq = @seq;",
                [.. RunParameters, "@seq"]);
            Values = [.. SqliteRunValues.All.Select(v => new SqliteRunMetadata.Statements(connection, v))];
            FindPayload = MakeRaw(connection, SqlitePayloads.FindSql);
            InsertPayload = MakeRaw(connection, SqlitePayloads.InsertSql);
            DataVersion = MakeRaw(connection, "PRAGMA data_version;");
            DeletePayload = Make(connection, "DELETE FROM payloads WHERE id = @id;", "@id");
            MarkPending = MakeRaw(connection, "INSERT INTO fts_pending (seq, gen) VALUES (?1, 1) ON CONFLICT (seq) DO UPDATE SET gen = gen + 1;");
            InsertEvent = MakeRaw(
                connection,
                "INSERT OR IGNORE INTO events (project_id, type, time, session_key, run_id, name, data, idempotency_key) " +
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8);");
            SelectSessionKey = MakeRaw(connection, "SELECT key FROM session_keys WHERE project_id = ?1 AND id = ?2;");
            InsertSessionKey = MakeRaw(connection, "INSERT INTO session_keys (project_id, id) VALUES (?1, ?2);");
            SelectSession = Make(
                connection,
                "SELECT name, started_at, ended_at, state, metadata FROM sessions WHERE project_id = @p AND id = @id;",
                "@p", "@id");
            InsertSession = Make(
                connection,
                "INSERT INTO sessions (project_id, id, name, started_at, ended_at, state, metadata, created_at, updated_at) " +
                "VALUES (@p, @id, @name, @started, @ended, @state, @metadata, @now, @now) ON CONFLICT DO NOTHING;",
                "@p", "@id", "@name", "@started", "@ended", "@state", "@metadata", "@now");
            UpdateSession = Make(
                connection,
                "UPDATE sessions SET name = @name, started_at = @started, ended_at = @ended, state = @state, metadata = @metadata, updated_at = @now " +
                "WHERE project_id = @p AND id = @id;",
                "@p", "@id", "@name", "@started", "@ended", "@state", "@metadata", "@now");
            SessionTotals = Make(
                connection,
                "UPDATE sessions SET run_count = run_count + @runs, failed_count = failed_count + @failed, input_tokens = input_tokens + @itok, " +
                "output_tokens = output_tokens + @otok, cost_nanos = cost_nanos + @cost, " +
                "last_run_at = CASE WHEN @last IS NULL THEN last_run_at WHEN last_run_at IS NULL OR last_run_at < @last THEN @last ELSE last_run_at END, " +
                "started_at = CASE WHEN @first IS NOT NULL AND (started_at IS NULL OR started_at > @first) THEN @first ELSE started_at END, " +
                "updated_at = @now WHERE project_id = @p AND id = @id;",
                "@p", "@id", "@runs", "@failed", "@itok", "@otok", "@cost", "@first", "@last", "@now");
            SelectRollup = MakeRaw(
                connection,
                "SELECT count, errors, input_tokens, output_tokens, cost_nanos, duration_count, duration_sum, duration_min, duration_max, histogram " +
                "FROM rollups WHERE project_id = ?1 AND bucket_size = ?2 AND bucket_start = ?3 AND kind = ?4 AND name = ?5 AND model = ?6 AND status = ?7;");
            UpsertRollup = MakeRaw(
                connection,
                "INSERT OR REPLACE INTO rollups (project_id, bucket_size, bucket_start, kind, name, model, status, count, errors, input_tokens, output_tokens, " +
                "cost_nanos, duration_count, duration_sum, duration_min, duration_max, histogram) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, " +
                "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17);");
            DeleteRollup = MakeRaw(
                connection,
                "DELETE FROM rollups WHERE project_id = ?1 AND bucket_size = ?2 AND bucket_start = ?3 AND kind = ?4 AND name = ?5 AND model = ?6 AND status = ?7;");
        }

        internal static readonly string[] RunParameters =
        [
            "@p", "@id", "@session", "@parent", "@kind", "@name", "@status", "@started", "@ended", "@duration", "@model", "@provider", "@parameters",
            "@input", "@output", "@etype", "@emessage", "@estack", "@itok", "@otok", "@ctok", "@rtok", "@ttok", "@cost", "@tags", "@mkey",
            "@user", "@source", "@pinned", "@created", "@updated",
        ];

        /// <summary>Reads a run as <see cref="SqliteRows.ReadRun"/> does, then the keys of <see cref="SqliteRunValues.All"/> (from column <see cref="SelectRunValueKeys"/>).</summary>
        public SqliteCommand SelectRun { get; }

        public const int SelectRunValueKeys = 31;

        /// <summary>Find, make and count metadata, parameters and tags entries, by <see cref="SqliteRunValues.Index"/> (see <see cref="SqliteRunMetadata"/>).</summary>
        public SqliteRunMetadata.Statements[] Values { get; }

        /// <summary>Inserts a new run (<see cref="RawStatement.ExecuteInsert"/> gives its seq), or nothing when the id is already stored.</summary>
        public RawStatement InsertRun { get; }

        /// <summary>The position of each of <see cref="RunParameters"/> in <see cref="InsertRun"/>.</summary>
        public int[] InsertRunPositions { get; }

        public SqliteCommand UpdateRun { get; }

        /// <summary>The id of the body with a hash (parameter 1), or none; see <see cref="SqlitePayloads.FindSql"/>.</summary>
        public RawStatement FindPayload { get; }

        /// <summary>Parameters by position: hash, original size, encoding, truncated, data (<see cref="SqlitePayloads.InsertSql"/>); gives the new row's id.</summary>
        public RawStatement InsertPayload { get; }

        /// <summary>Changes when another connection commits to the database file.</summary>
        public RawStatement DataVersion { get; }

        public SqliteCommand DeletePayload { get; }

        /// <summary>Parameters by position: seq. Marks a run whose search text changed (see <c>SqliteSearchIndex</c>).</summary>
        public RawStatement MarkPending { get; }

        /// <summary>Parameters by position: project, type, time, session key, run, name, data, idempotency key; inserts nothing when the key was seen (<see cref="RawStatement.ExecuteInsert"/> gives the event id).</summary>
        public RawStatement InsertEvent { get; }

        /// <summary>Parameters by position: project, session id; reads the session's key.</summary>
        public RawStatement SelectSessionKey { get; }

        /// <summary>Parameters by position: project, session id; <see cref="RawStatement.ExecuteInsert"/> gives the new key.</summary>
        public RawStatement InsertSessionKey { get; }

        public SqliteCommand SelectSession { get; }

        public SqliteCommand InsertSession { get; }

        public SqliteCommand UpdateSession { get; }

        public SqliteCommand SessionTotals { get; }

        /// <summary>Parameters by position: the seven key columns (see <see cref="UpsertRollup"/>).</summary>
        public RawStatement SelectRollup { get; }

        /// <summary>Parameters by position: the seven key columns, then count, errors, input and output tokens, cost, duration count, sum, min, max, histogram.</summary>
        public RawStatement UpsertRollup { get; }

        /// <summary>Parameters by position: the seven key columns.</summary>
        public RawStatement DeleteRollup { get; }

        public void Bind(SqliteTransaction transaction)
        {
            foreach (var command in _all)
            {
                command.Transaction = transaction;
            }
        }

        public void Dispose()
        {
            foreach (var command in _all)
            {
                command.Dispose();
            }

            foreach (var statement in _raw)
            {
                statement.Dispose();
            }

            foreach (var values in Values)
            {
                values.Dispose();
            }
        }

        private RawStatement MakeRaw(SqliteConnection connection, string sql)
        {
            var statement = new RawStatement(connection, sql);
            _raw.Add(statement);
            return statement;
        }

        private SqliteCommand Make(SqliteConnection connection, string sql, params string[] parameters)
        {
            var command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var name in parameters)
            {
                command.Parameters.Add(new SqliteParameter(name, DBNull.Value));
            }

            _all.Add(command);
            return command;
        }
    }

    private static void Set(SqliteCommand command, string name, object? value) =>
        command.Parameters[name].Value = value ?? DBNull.Value;
}
