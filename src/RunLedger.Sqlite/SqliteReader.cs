using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using RunLedger.Core.Model;
using RunLedger.Core.Payloads;
using RunLedger.Core.Query;
using RunLedger.Core.Storage;
using RunLedger.Sqlite.Query;

namespace RunLedger.Sqlite;

/// <summary>Reads on pooled connections; every query is scoped to one project and parameterized.</summary>
internal sealed partial class SqliteReader : ILedgerReader
{
    private readonly SqliteLedgerStore _store;
    private readonly TimeProvider _time;

    public SqliteReader(SqliteLedgerStore store, TimeProvider time)
    {
        _store = store;
        _time = time;
    }

    public async Task<Page<Run>> QueryRunsAsync(long projectId, RunQuery query, CancellationToken cancellationToken)
    {
        await using var connection = await _store.OpenReaderAsync(cancellationToken).ConfigureAwait(false);

        // With bodies, the rows and the bodies they refer to by payload row id are read in one
        // snapshot (commands join it via CreateCommand): a restore between them empties payloads
        // and reuses its row ids. A filter reads the keys of the metadata and tag entries it
        // matches before the runs, and a search reads its windows and their check: one snapshot,
        // or a run committed in between with a new entry would be judged by an older list.
        // Deferred: a read transaction, never the write lock.
        var search = query.Filter is { } filter && SqliteFilterCompiler.HasText(filter);
        await using var snapshot = query.IncludeBodies || query.Filter is not null ? connection.BeginTransaction(deferred: true) : null;
        var now = _time.GetUtcNow();
        var rows = search
            ? await SearchNewestAsync(connection, projectId, query, now, cancellationToken).ConfigureAwait(false)
            : null;
        rows ??= await ListRunsAsync(connection, projectId, query, now, SearchScope.AllRuns, 0, cancellationToken).ConfigureAwait(false);

        string? next = null;
        if (rows.Count > query.Limit)
        {
            rows.RemoveAt(rows.Count - 1);
            var last = rows[^1];
            next = Cursors.Encode(last.StartedAt, StorageUnits.ToBytes(last.Id));
        }

        var items = new List<Run>(rows.Count);
        foreach (var row in rows)
        {
            items.Add(query.IncludeBodies ? await WithBodiesAsync(connection, row, cancellationToken).ConfigureAwait(false) : ToRun(row));
        }

        return new Page<Run>(items, next);
    }

    /// <summary>
    /// A page of a search, newest first, from the newest runs by sequence number. The full-text
    /// index is asked only about runs from <c>@fts_from</c> on (FTS5 seeks to it in each list), and
    /// only those rows are read (by sequence number, then sorted), so a common word costs a window
    /// of runs, not its whole list, and a rare one cannot make the time index be walked to its end.
    /// Runs are stored in about the order they start, but not exactly (a client may send older
    /// runs late), so the page stands only if no run below the window that starts at or after the
    /// page's last run matches: the runs the time index lists from there on that lie below the
    /// window, each asked of the index alone. Otherwise, or when the window holds less than a
    /// page, the window grows by what the matches so far suggest (4x to 64x); past a quarter of
    /// the ledger the search asks the whole index (null).
    /// </summary>
    private async Task<List<RunRow>?> SearchNewestAsync(SqliteConnection connection, long projectId, RunQuery query, DateTimeOffset now, CancellationToken cancellationToken)
    {
        long newest;
        await using (var top = connection.CreateCommand())
        {
            top.CommandText = "SELECT max(seq) FROM runs;";
            newest = await top.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long seq ? seq : 0;
        }

        var window = _store.Options.SearchWindowRuns;
        while (window <= newest / 4)
        {
            var from = newest - window + 1;
            var rows = await ListRunsAsync(connection, projectId, query, now, SearchScope.FromSeq, from, cancellationToken).ConfigureAwait(false);
            if (rows.Count > query.Limit
                && !await MatchesBelowAsync(connection, projectId, query, now, from, rows[^1].StartedAt, cancellationToken).ConfigureAwait(false))
            {
                return rows;
            }

            // About twice the window the matches so far need to fill the page.
            var factor = rows.Count == 0 ? 64 : Math.Clamp(2 * (query.Limit + 1) / rows.Count, 4, 64);
            window = window > long.MaxValue / factor ? long.MaxValue : window * factor;
        }

        return null;
    }

    /// <summary>
    /// Whether a run below sequence number <paramref name="from"/> that starts at or after
    /// <paramref name="edge"/> matches the query (and its cursor). The time index gives those
    /// runs; the free text is asked of the index for each of them alone.
    /// </summary>
    private async Task<bool> MatchesBelowAsync(SqliteConnection connection, long projectId, RunQuery query, DateTimeOffset now, long from, long edge, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        var sql = new StringBuilder("SELECT 1 FROM runs r INDEXED BY ix_runs_started WHERE r.project_id = @project AND r.started_at >= @edge AND r.seq < @fts_from");
        command.Parameters.AddWithValue("@project", projectId);
        command.Parameters.AddWithValue("@edge", edge);
        command.Parameters.AddWithValue("@fts_from", from);
        AppendFilter(sql, command, SqliteFilterCompiler.CompileRuns(query.Filter!, now, _store.FullTextLayout, MetadataOf(connection, projectId), SearchScope.ThisRun));
        AppendCursor(sql, command, query.Cursor);
        command.CommandText = sql.Append(" LIMIT 1;").ToString();
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not null;
    }

    /// <summary>
    /// A page of runs (one more than the limit, to tell whether another follows), newest first;
    /// with <see cref="SearchScope.FromSeq"/> only runs from sequence number <paramref name="from"/> on.
    /// </summary>
    private async Task<List<RunRow>> ListRunsAsync(SqliteConnection connection, long projectId, RunQuery query, DateTimeOffset now, SearchScope scope, long from, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        var sql = new StringBuilder($"SELECT {SqliteRows.RunColumnsOf("r")} FROM {SqliteRows.RunsFrom("r", byRowidOnly: scope == SearchScope.FromSeq)} WHERE r.project_id = @project");
        command.Parameters.AddWithValue("@project", projectId);
        if (scope == SearchScope.FromSeq)
        {
            sql.Append(" AND r.seq >= @fts_from");
            command.Parameters.AddWithValue("@fts_from", from);
        }

        AppendFilter(sql, command, query.Filter is null ? null : SqliteFilterCompiler.CompileRuns(query.Filter, now, _store.FullTextLayout, MetadataOf(connection, projectId), scope));
        AppendCursor(sql, command, query.Cursor);
        sql.Append(" ORDER BY r.started_at DESC, r.id DESC LIMIT @limit;");
        command.Parameters.AddWithValue("@limit", query.Limit + 1);
        command.CommandText = sql.ToString();

        var rows = new List<RunRow>(Math.Min(query.Limit + 1, 1024));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(SqliteRows.ReadRun(reader));
        }

        return rows;
    }

    /// <summary>Runs after the cursor's (start time, id) in newest-first order.</summary>
    private static void AppendCursor(StringBuilder sql, SqliteCommand command, string? cursor)
    {
        if (cursor is null)
        {
            return;
        }

        var (time, id) = Cursors.DecodeRun(cursor);
        sql.Append(" AND (r.started_at < @ctime OR (r.started_at = @ctime AND r.id < @cid))");
        command.Parameters.AddWithValue("@ctime", time);
        command.Parameters.AddWithValue("@cid", id);
    }

    /// <summary>Finds the metadata entries of a project that a filter's metadata term matches (see <see cref="SqliteMetadataMatches"/>).</summary>
    private SqliteFilterCompiler.MetadataResolver MetadataOf(SqliteConnection connection, long projectId) =>
        (values, condition, parameters) => _store.MetadataMatches.Find(connection, projectId, values, condition, parameters);

    public async Task<RunDetail?> GetRunAsync(long projectId, Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await _store.OpenReaderAsync(cancellationToken).ConfigureAwait(false);

        // The run, its bodies (by payload row id), children and events from one snapshot.
        await using var snapshot = connection.BeginTransaction(deferred: true);
        var idBytes = StorageUnits.ToBytes(id);
        RunRow? row = null;
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = $"SELECT {SqliteRows.RunColumnsOf("r")} FROM {SqliteRows.RunsFrom("r")} WHERE r.project_id = @p AND r.id = @id;";
            command.Parameters.AddWithValue("@p", projectId);
            command.Parameters.AddWithValue("@id", idBytes);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                row = SqliteRows.ReadRun(reader);
            }
        }

        if (row is null)
        {
            return null;
        }

        var run = await WithBodiesAsync(connection, row, cancellationToken).ConfigureAwait(false);
        var children = new List<Run>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = $"SELECT {SqliteRows.RunColumnsOf("r")} FROM {SqliteRows.RunsFrom("r")} WHERE r.project_id = @p AND r.parent_id = @id ORDER BY r.started_at, r.id LIMIT 10000;";
            command.Parameters.AddWithValue("@p", projectId);
            command.Parameters.AddWithValue("@id", idBytes);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                children.Add(ToRun(SqliteRows.ReadRun(reader)));
            }
        }

        var events = new List<LedgerEvent>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = $"SELECT {EventColumns} FROM {SqliteRows.EventsFrom("e")} WHERE e.project_id = @p AND e.run_id = @id ORDER BY e.id LIMIT 10000;";
            command.Parameters.AddWithValue("@p", projectId);
            command.Parameters.AddWithValue("@id", idBytes);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                events.Add(ReadEvent(reader));
            }
        }

        return new RunDetail(run, children, events);
    }

    public async Task<Page<Session>> QuerySessionsAsync(long projectId, SessionQuery query, CancellationToken cancellationToken)
    {
        var cursor = query.Cursor is null ? ((long, byte[])?)null : Cursors.Decode(query.Cursor);
        await using var connection = await _store.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        var where = new StringBuilder("s.project_id = @project");
        command.Parameters.AddWithValue("@project", projectId);
        AppendFilter(where, command, query.Filter is null ? null : SqliteFilterCompiler.CompileSessions(query.Filter, _time.GetUtcNow()));
        command.Parameters.AddWithValue("@limit", query.Limit + 1);

        // Sessions without a start time come last (SQLite sorts NULL below every value, so last in
        // descending order), by id. A cursor inside them pages by id alone; a cursor among the
        // timed ones reads on from it and then on into the untimed ones, each part its own index
        // range (an OR of both would make ix_sessions_started a filter read from the top).
        string sql;
        if (cursor is not { } position)
        {
            sql = $"SELECT {SessionRows.Columns} FROM sessions s WHERE {where} ORDER BY s.started_at DESC, s.id DESC LIMIT @limit;";
        }
        else
        {
            command.Parameters.AddWithValue("@cid", Encoding.UTF8.GetString(position.Item2));
            if (position.Item1 == Cursors.NoStartTime)
            {
                sql = $"SELECT {SessionRows.Columns} FROM sessions s WHERE {where} AND s.started_at IS NULL AND s.id < @cid ORDER BY s.id DESC LIMIT @limit;";
            }
            else
            {
                command.Parameters.AddWithValue("@ctime", position.Item1);
                sql = $"SELECT * FROM (SELECT * FROM (SELECT {SessionRows.Columns} FROM sessions s WHERE {where} AND (s.started_at < @ctime OR (s.started_at = @ctime AND s.id < @cid)) " +
                    "ORDER BY s.started_at DESC, s.id DESC LIMIT @limit) " +
                    $"UNION ALL SELECT * FROM (SELECT {SessionRows.Columns} FROM sessions s WHERE {where} AND s.started_at IS NULL ORDER BY s.id DESC LIMIT @limit)) " +
                    "ORDER BY started_at DESC, id DESC LIMIT @limit;";
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

    public async Task<SessionDetail?> GetSessionAsync(long projectId, string id, SessionRunsQuery runs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var cursor = runs.Cursor is null ? ((long, byte[])?)null : Cursors.DecodeRun(runs.Cursor);
        await using var connection = await _store.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        Session? session = null;
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = $"SELECT {SessionRows.Columns} FROM sessions s WHERE s.project_id = @p AND s.id = @id;";
            command.Parameters.AddWithValue("@p", projectId);
            command.Parameters.AddWithValue("@id", id);
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

        // The session's top-level runs through their own index (ix_runs_session_roots), one page.
        var rows = new List<RunRow>(Math.Min(runs.Limit + 1, 1024));
        await using (var command = connection.CreateCommand())
        {
            var sql = new StringBuilder($"SELECT {SqliteRows.RunColumnsOf("r")} FROM {SqliteRows.RunsFrom("r")} WHERE r.project_id = @p AND r.session_key = {SessionKeyOf} AND r.parent_id IS NULL");
            if (cursor is var (time, after))
            {
                sql.Append(" AND (r.started_at < @ctime OR (r.started_at = @ctime AND r.id < @cid))");
                command.Parameters.AddWithValue("@ctime", time);
                command.Parameters.AddWithValue("@cid", after);
            }

            command.CommandText = sql.Append(" ORDER BY r.started_at DESC, r.id DESC LIMIT @limit;").ToString();
            command.Parameters.AddWithValue("@p", projectId);
            command.Parameters.AddWithValue("@id", id);
            command.Parameters.AddWithValue("@limit", runs.Limit + 1);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add(SqliteRows.ReadRun(reader));
            }
        }

        string? next = null;
        if (rows.Count > runs.Limit)
        {
            rows.RemoveAt(rows.Count - 1);
            next = Cursors.Encode(rows[^1].StartedAt, StorageUnits.ToBytes(rows[^1].Id));
        }

        var byStatus = new List<StatusCount>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = $"SELECT status, count(*) FROM runs WHERE project_id = @p AND session_key = {SessionKeyOf} GROUP BY status ORDER BY status;";
            command.Parameters.AddWithValue("@p", projectId);
            command.Parameters.AddWithValue("@id", id);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                byStatus.Add(new StatusCount(reader.GetString(0), reader.GetInt64(1)));
            }
        }

        return new SessionDetail(session, rows.ConvertAll(ToRun), byStatus, next);
    }

    public async Task<IReadOnlyList<LedgerEvent>> ReadEventsAsync(long projectId, long afterId, FilterNode? filter, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await _store.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        var sql = new StringBuilder($"SELECT {EventColumns} FROM {SqliteRows.EventsFrom("e")} WHERE e.project_id = @project");
        command.Parameters.AddWithValue("@project", projectId);
        var fragment = filter is null ? null : SqliteFilterCompiler.CompileEvents(filter, _time.GetUtcNow());
        if (fragment is not null && fragment.Sql.Contains(SqliteEventData.FunctionName, StringComparison.Ordinal))
        {
            // Only free text reads the data in SQL; registering costs every other read a little.
            SqliteEventData.Register(connection);
        }

        AppendFilter(sql, command, fragment);
        if (afterId >= 0)
        {
            sql.Append(" AND e.id > @after ORDER BY e.id LIMIT @limit;");
            command.Parameters.AddWithValue("@after", afterId);
        }
        else
        {
            // The newest events, returned oldest first.
            sql.Insert(0, "SELECT * FROM (").Append(" ORDER BY e.id DESC LIMIT @limit) ORDER BY id;");
        }

        command.Parameters.AddWithValue("@limit", limit);
        command.CommandText = sql.ToString();
        var events = new List<LedgerEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            events.Add(ReadEvent(reader));
        }

        return events;
    }

    public async Task<long> GetLastEventIdAsync(long projectId, CancellationToken cancellationToken)
    {
        await using var connection = await _store.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT coalesce(max(id), 0) FROM events WHERE project_id = @p;";
        command.Parameters.AddWithValue("@p", projectId);
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await _store.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM schema_version;";
            return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! > 0;
        }
        catch (SqliteException)
        {
            return false;
        }
    }

    /// <summary>The key of session <c>@id</c> of project <c>@p</c> (NULL when no run or event names it).</summary>
    private const string SessionKeyOf = "(SELECT sk.key FROM session_keys sk WHERE sk.project_id = @p AND sk.id = @id)";

    /// <summary>The columns <see cref="ReadEvent"/> reads, from <see cref="SqliteRows.EventsFrom"/> aliased <c>e</c> (one column named id).</summary>
    private const string EventColumns = "e.id, e.type, e.time, e_sk.id AS session_id, e.run_id, e.name, e.data, e.idempotency_key";

    private static void AppendFilter(StringBuilder sql, SqliteCommand command, SqlFragment? fragment)
    {
        if (fragment is null)
        {
            return;
        }

        sql.Append(" AND (").Append(fragment.Sql).Append(')');
        foreach (var (name, value) in fragment.Parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }
    }

    /// <summary>Reads the columns of <see cref="EventColumns"/>; a packed run event (<see cref="SqliteRunEvents"/>) gets its type and data back.</summary>
    private static LedgerEvent ReadEvent(SqliteDataReader r)
    {
        var runId = r.IsDBNull(4) ? (Guid?)null : StorageUnits.ToGuid((byte[])r.GetValue(4));
        var name = r.IsDBNull(5) ? null : r.GetString(5);
        var (type, data) = SqliteRunEvents.TypeAndData(r.GetString(1), r.GetValue(6), runId, name);
        return new LedgerEvent
        {
            Id = r.GetInt64(0),
            Type = type,
            Time = StorageUnits.FromMicros(r.GetInt64(2)),
            SessionId = r.IsDBNull(3) ? null : r.GetString(3),
            RunId = runId,
            Name = name,
            Data = data is null ? null : new RawJson(data),
            IdempotencyKey = r.IsDBNull(7) ? null : r.GetString(7),
        };
    }

    internal static Run ToRun(RunRow row) => RunMerge.ToRun(row);

    private async Task<Run> WithBodiesAsync(SqliteConnection connection, RunRow row, CancellationToken cancellationToken)
    {
        var (input, inputInfo) = await LoadBodyAsync(connection, row.InputPayload, cancellationToken).ConfigureAwait(false);
        var (output, outputInfo) = await LoadBodyAsync(connection, row.OutputPayload, cancellationToken).ConfigureAwait(false);
        return RunMerge.ToRun(row, input, output, inputInfo, outputInfo);
    }

    private async Task<(RawJson?, PayloadInfo?)> LoadBodyAsync(SqliteConnection connection, long? payload, CancellationToken cancellationToken)
    {
        if (payload is null)
        {
            return (null, null);
        }

        await using var command = connection.CreateCommand();
        command.CommandText = SqlitePayloads.ReadSql;
        command.Parameters.AddWithValue("@id", payload);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return (null, null);
        }

        return StoredBody.Read(
            (PayloadEncoding)reader.GetInt32(0), (byte[])reader.GetValue(1), reader.GetInt64(2), Convert.ToHexStringLower((byte[])reader.GetValue(4)), reader.GetInt64(3) != 0, _store.Dictionaries);
    }
}
