using System.Text;
using Npgsql;
using RunLedger.Core.Model;
using RunLedger.Core.Payloads;
using RunLedger.Core.Query;
using RunLedger.Core.Storage;
using RunLedger.Postgres.Query;

namespace RunLedger.Postgres;

/// <summary>Reads through the data source's pool; every query is scoped to one project and parameterized.</summary>
internal sealed partial class PostgresReader : ILedgerReader
{
    private readonly PostgresLedgerStore _store;
    private readonly TimeProvider _time;

    public PostgresReader(PostgresLedgerStore store, TimeProvider time)
    {
        _store = store;
        _time = time;
    }

    public async Task<Page<Run>> QueryRunsAsync(long projectId, RunQuery query, CancellationToken cancellationToken)
    {
        await using var connection = await _store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand { Connection = connection };
        var sql = new StringBuilder($"SELECT {PostgresRows.Prefixed("r")} FROM runs r WHERE r.project_id = @project");
        command.Parameters.AddWithValue("project", projectId);
        AppendFilter(sql, command, query.Filter is null ? null : PostgresFilterCompiler.CompileRuns(query.Filter, _time.GetUtcNow()));
        if (query.Cursor is not null)
        {
            var (time, id) = Cursors.DecodeRun(query.Cursor);

            sql.Append(" AND (r.started_at, r.id) < (@ctime, @cid)");
            command.Parameters.AddWithValue("ctime", time);
            command.Parameters.AddWithValue("cid", StorageUnits.ToGuid(id));
        }

        sql.Append(" ORDER BY r.started_at DESC, r.id DESC LIMIT @limit");
        command.Parameters.AddWithValue("limit", query.Limit + 1);
        command.CommandText = sql.ToString();

        var rows = new List<RunRow>(Math.Min(query.Limit + 1, 1024));
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add(PostgresRows.ReadRun(reader));
            }
        }

        string? next = null;
        if (rows.Count > query.Limit)
        {
            rows.RemoveAt(rows.Count - 1);
            var last = rows[^1];
            next = Cursors.Encode(last.StartedAt, StorageUnits.ToBytes(last.Id));
        }

        IReadOnlyDictionary<string, (RawJson?, PayloadInfo)> bodies = query.IncludeBodies
            ? await LoadBodiesAsync(connection, rows.SelectMany(r => new[] { r.InputHash, r.OutputHash }), cancellationToken).ConfigureAwait(false)
            : new Dictionary<string, (RawJson?, PayloadInfo)>();
        var items = rows.Select(row => query.IncludeBodies ? WithBodies(row, bodies) : RunMerge.ToRun(row)).ToList();
        return new Page<Run>(items, next);
    }

    public async Task<RunDetail?> GetRunAsync(long projectId, Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await _store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var row = (await ReadRunsAsync(connection, projectId, [id], cancellationToken).ConfigureAwait(false)).FirstOrDefault();
        if (row is null)
        {
            return null;
        }

        var bodies = await LoadBodiesAsync(connection, [row.InputHash, row.OutputHash], cancellationToken).ConfigureAwait(false);
        var run = WithBodies(row, bodies);
        var children = new List<Run>();
        await using (var command = new NpgsqlCommand($"SELECT {PostgresRows.RunColumns} FROM runs WHERE project_id = @p AND parent_id = @id ORDER BY started_at, id LIMIT 10000", connection))
        {
            command.Parameters.AddWithValue("p", projectId);
            command.Parameters.AddWithValue("id", id);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                children.Add(RunMerge.ToRun(PostgresRows.ReadRun(reader)));
            }
        }

        var events = new List<LedgerEvent>();
        await using (var command = new NpgsqlCommand($"SELECT {PostgresRows.EventColumns} FROM events e WHERE e.project_id = @p AND e.run_id = @id ORDER BY e.id LIMIT 10000", connection))
        {
            command.Parameters.AddWithValue("p", projectId);
            command.Parameters.AddWithValue("id", id);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                events.Add(PostgresRows.ReadEvent(reader));
            }
        }

        return new RunDetail(run, children, events);
    }

    public async Task<Page<Session>> QuerySessionsAsync(long projectId, SessionQuery query, CancellationToken cancellationToken)
    {
        var cursor = query.Cursor is null ? ((long, byte[])?)null : Cursors.Decode(query.Cursor);
        await using var connection = await _store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand { Connection = connection };
        var where = new StringBuilder("s.project_id = @project");
        command.Parameters.AddWithValue("project", projectId);
        AppendFilter(where, command, query.Filter is null ? null : PostgresFilterCompiler.CompileSessions(query.Filter, _time.GetUtcNow()));
        command.Parameters.AddWithValue("limit", query.Limit + 1);

        // Sessions without a start time come last (NULLS LAST, as SQLite orders them), by id. A
        // cursor inside them pages by id alone; a cursor among the timed ones reads on from it and
        // then on into the untimed ones, each part its own range of ix_sessions_started (the row
        // comparison lets the backward scan start at the cursor; an OR with IS NULL would not).
        const string order = " ORDER BY s.started_at DESC NULLS LAST, s.id DESC LIMIT @limit";
        string sql;
        if (cursor is not { } position)
        {
            sql = $"SELECT {SessionRows.Columns} FROM sessions s WHERE {where}{order}";
        }
        else
        {
            command.Parameters.AddWithValue("cid", Encoding.UTF8.GetString(position.Item2));
            if (position.Item1 == Cursors.NoStartTime)
            {
                sql = $"SELECT {SessionRows.Columns} FROM sessions s WHERE {where} AND s.started_at IS NULL AND s.id < @cid{order}";
            }
            else
            {
                command.Parameters.AddWithValue("ctime", position.Item1);
                sql = $"SELECT * FROM ((SELECT {SessionRows.Columns} FROM sessions s WHERE {where} AND (s.started_at, s.id) < (@ctime, @cid){order}) " +
                    $"UNION ALL (SELECT {SessionRows.Columns} FROM sessions s WHERE {where} AND s.started_at IS NULL{order})) s" +
                    order;
            }
        }

        command.CommandText = sql;
        var items = new List<Session>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                items.Add(SessionRows.Read(reader));
            }
        }

        string? next = null;
        if (items.Count > query.Limit)
        {
            items.RemoveAt(items.Count - 1);
            next = Cursors.EncodeSession(items[^1]);
        }

        return new Page<Session>(items, next);
    }

    /// <summary>
    /// A page of the session summary's top-level runs (@p project, @id session, @limit; after a
    /// cursor also @ctime, @cid): ix_runs_session_roots.
    /// </summary>
    internal static string SessionRootsSql(bool afterCursor) =>
        $"SELECT {PostgresRows.RunColumns} FROM runs WHERE project_id = @p AND session_id = @id AND parent_id IS NULL"
        + (afterCursor ? " AND (started_at, id) < (@ctime, @cid)" : string.Empty)
        + " ORDER BY started_at DESC, id DESC LIMIT @limit";

    /// <summary>The session summary's counts by status (@p project, @id session): ix_runs_session_status, from the index alone.</summary>
    internal const string SessionStatusSql = "SELECT status, count(*) FROM runs WHERE project_id = @p AND session_id = @id GROUP BY status ORDER BY status";

    public async Task<SessionDetail?> GetSessionAsync(long projectId, string id, SessionRunsQuery runs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var cursor = runs.Cursor is null ? ((long, byte[])?)null : Cursors.DecodeRun(runs.Cursor);

        await using var connection = await _store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        Session? session = null;
        await using (var command = new NpgsqlCommand($"SELECT {SessionRows.Columns} FROM sessions s WHERE s.project_id = @p AND s.id = @id", connection))
        {
            command.Parameters.AddWithValue("p", projectId);
            command.Parameters.AddWithValue("id", id);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                session = SessionRows.Read(reader);
            }
        }

        if (session is null)
        {
            return null;
        }

        var rows = new List<RunRow>(Math.Min(runs.Limit + 1, 1024));
        await using (var command = new NpgsqlCommand(SessionRootsSql(cursor is not null), connection))
        {
            if (cursor is var (time, after))
            {
                command.Parameters.AddWithValue("ctime", time);
                command.Parameters.AddWithValue("cid", StorageUnits.ToGuid(after));
            }

            command.Parameters.AddWithValue("p", projectId);
            command.Parameters.AddWithValue("id", id);
            command.Parameters.AddWithValue("limit", runs.Limit + 1);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add(PostgresRows.ReadRun(reader));
            }
        }

        string? next = null;
        if (rows.Count > runs.Limit)
        {
            rows.RemoveAt(rows.Count - 1);
            next = Cursors.Encode(rows[^1].StartedAt, StorageUnits.ToBytes(rows[^1].Id));
        }

        var byStatus = new List<StatusCount>();
        await using (var command = new NpgsqlCommand(SessionStatusSql, connection))
        {
            command.Parameters.AddWithValue("p", projectId);
            command.Parameters.AddWithValue("id", id);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                byStatus.Add(new StatusCount(reader.GetString(0), reader.GetInt64(1)));
            }
        }

        return new SessionDetail(session, rows.ConvertAll(row => RunMerge.ToRun(row)), byStatus, next);
    }

    public async Task<IReadOnlyList<LedgerEvent>> ReadEventsAsync(long projectId, long afterId, FilterNode? filter, int limit, CancellationToken cancellationToken)
    {
        await using var command = _store.DataSource.CreateCommand();
        var sql = new StringBuilder($"SELECT {PostgresRows.EventColumns} FROM events e WHERE e.project_id = @project");
        command.Parameters.AddWithValue("project", projectId);
        AppendFilter(sql, command, filter is null ? null : PostgresFilterCompiler.CompileEvents(filter, _time.GetUtcNow()));
        if (afterId >= 0)
        {
            sql.Append(" AND e.id > @after ORDER BY e.id LIMIT @limit");
            command.Parameters.AddWithValue("after", afterId);
        }
        else
        {
            // The newest events, returned oldest first.
            sql.Insert(0, "SELECT * FROM (").Append(" ORDER BY e.id DESC LIMIT @limit) newest ORDER BY id");
        }

        command.Parameters.AddWithValue("limit", limit);
        command.CommandText = sql.ToString();
        var events = new List<LedgerEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            events.Add(PostgresRows.ReadEvent(reader));
        }

        return events;
    }

    public async Task<long> GetLastEventIdAsync(long projectId, CancellationToken cancellationToken)
    {
        await using var command = _store.DataSource.CreateCommand("SELECT coalesce(max(id), 0) FROM events WHERE project_id = @p");
        command.Parameters.AddWithValue("p", projectId);
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>
    /// True when the database answers and has a schema; throws <see cref="SchemaTooNewException"/>
    /// when another replica has migrated it past what this build knows, so <c>/readyz</c> takes
    /// an outdated replica out of the balancer as its writer stops writing.
    /// </summary>
    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        object? version;
        try
        {
            await using var command = _store.DataSource.CreateCommand(PostgresMigrator.CurrentVersionSql);
            version = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException)
        {
            return false;
        }

        if (version is int current && current > _store.KnownSchemaVersion)
        {
            throw SchemaTooNewException.WhileRunning(current, _store.KnownSchemaVersion);
        }

        return version is int;
    }

    /// <summary>
    /// The stored rows of <paramref name="ids"/>: run_ids gives each run's start time, which
    /// names the one partition to look in.
    /// </summary>
    internal static async Task<List<RunRow>> ReadRunsAsync(NpgsqlConnection connection, long projectId, IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken)
    {
        var rows = new List<RunRow>(ids.Count);
        if (ids.Count == 0)
        {
            return rows;
        }

        await using var command = new NpgsqlCommand(
            $"SELECT {PostgresRows.Prefixed("r")} FROM run_ids i JOIN runs r ON r.project_id = i.project_id AND r.started_at = i.started_at AND r.id = i.id " +
            "WHERE i.project_id = @p AND i.id = ANY(@ids)",
            connection);
        command.Parameters.AddWithValue("p", projectId);
        command.Parameters.AddWithValue("ids", ids.ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(PostgresRows.ReadRun(reader));
        }

        return rows;
    }

    private static void AppendFilter(StringBuilder sql, NpgsqlCommand command, SqlFragment? fragment)
    {
        if (fragment is null)
        {
            return;
        }

        sql.Append(" AND (").Append(fragment.Sql).Append(')');
        foreach (var (name, value) in fragment.Parameters)
        {
            command.Parameters.AddWithValue(name.TrimStart('@'), value ?? DBNull.Value);
        }
    }

    private static Run WithBodies(RunRow row, IReadOnlyDictionary<string, (RawJson? Body, PayloadInfo Info)> bodies)
    {
        (RawJson? Body, PayloadInfo Info)? input = row.InputHash is { } i && bodies.TryGetValue(Convert.ToHexStringLower(i), out var a) ? a : null;
        (RawJson? Body, PayloadInfo Info)? output = row.OutputHash is { } o && bodies.TryGetValue(Convert.ToHexStringLower(o), out var b) ? b : null;
        return RunMerge.ToRun(row, input?.Body, output?.Body, input?.Info, output?.Info);
    }

    private static async Task<Dictionary<string, (RawJson?, PayloadInfo)>> LoadBodiesAsync(NpgsqlConnection connection, IEnumerable<byte[]?> hashes, CancellationToken cancellationToken)
    {
        var wanted = hashes.OfType<byte[]>().ToArray();
        var bodies = new Dictionary<string, (RawJson?, PayloadInfo)>(StringComparer.Ordinal);
        if (wanted.Length == 0)
        {
            return bodies;
        }

        await using var command = new NpgsqlCommand("SELECT hash, encoding, data, original_size, truncated FROM payloads WHERE hash = ANY(@h)", connection);
        command.Parameters.AddWithValue("h", wanted);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var hex = Convert.ToHexStringLower(reader.GetFieldValue<byte[]>(0));
            bodies[hex] = StoredBody.Read(
                (PayloadEncoding)reader.GetInt16(1), reader.GetFieldValue<byte[]>(2), reader.GetInt64(3), hex, reader.GetBoolean(4));
        }

        return bodies;
    }
}
