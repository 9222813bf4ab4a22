using System.Globalization;
using Microsoft.Data.Sqlite;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Query;
using RunLedger.Core.Storage;

namespace RunLedger.Sqlite.Tests.Store;

/// <summary>
/// Sessions referred to by integer keys and run events kept without the run's id and name
/// (migration 0009): what the reader, the filters and the export return is what it was.
/// </summary>
public sealed class SqliteSessionKeyTests
{
    private static readonly DateTimeOffset Start = StoreFixture.Day.AddHours(1);

    [Fact]
    public async Task RunEvents_TrickyNames_ReadBackByteForByteAsTheFullDataAndAreStoredWithoutIdAndName()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = (await f.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;
        var parent = Guid.CreateVersion7();
        string?[] names = [null, "plan", "quote \" back\\slash", "ünïcödé α 日本 😀", "<b>&'+`\u2028\u0001", ""];
        var runs = new List<RunWrite>
        {
            new() { Id = parent, Name = "root", Kind = RunKind.Agent, StartedAt = Start },
        };
        foreach (var name in names)
        {
            runs.Add(new RunWrite
            {
                Id = Guid.CreateVersion7(),
                ParentId = parent,
                SessionId = "s",
                Name = name,
                Model = "gpt-4o",
                StartedAt = Start,
                EndedAt = Start.AddMilliseconds(1234.5),
                CostUsd = 0.000123m,
                Usage = new Usage { InputTokens = 10, OutputTokens = 5 },
                Error = name is "plan" ? new RunError { Message = "boom \"x\" <y>" } : null,
            });
        }

        await f.WriteAsync(project, runs);

        var events = await f.Store.Reader.ReadEventsAsync(project, 0, FilterParser.Parse("type:run.*", FilterTarget.Events), 100, default);
        events.Count.ShouldBe(runs.Count);
        foreach (var e in events)
        {
            // What a store that keeps the full data (PostgreSQL, and this one before 0009) returns.
            var row = ReadRow(f, e.RunId!.Value);
            var (type, _, data) = RunMerge.RunEvent(null, row, 0);
            e.Type.ShouldBe(type);
            e.Data!.Text.ShouldBe(data);
            e.Data.Text.ShouldStartWith("{\"id\":\"" + e.RunId.Value.ToString("D", CultureInfo.InvariantCulture) + "\"");
        }

        // Stored without the id and name: packed (schema 12, SqliteRunEvents).
        f.Scalar("SELECT count(*) FROM events WHERE typeof(data) = 'blob' AND run_id IS NOT NULL").ShouldBe(runs.Count);
        f.Scalar("SELECT count(*) FROM events WHERE run_id IS NOT NULL AND instr(data, '\"id\":') > 0").ShouldBe(0);

        // The run detail, the export and free text over events read the same data.
        var detail = await f.Store.Reader.GetRunAsync(project, runs[2].Id, default);
        detail!.Events.Single().Data!.Text.ShouldBe(events.Single(e => e.RunId == runs[2].Id).Data!.Text);
        var exported = await f.Store.Transfer.ExportEventsAsync("p", 0, 100, default);
        exported.Where(e => e.RunId is not null).Select(e => e.Data).ShouldBe(events.Select(e => e.Data!.Text));
        var byId = await f.Store.Reader.ReadEventsAsync(project, 0, FilterParser.Parse($"\"{runs[3].Id:D}\"", FilterTarget.Events), 100, default);
        byId.Select(e => e.RunId).ShouldBe([runs[3].Id]);
        var byName = await f.Store.Reader.ReadEventsAsync(project, 0, FilterParser.Parse("\"\\\"name\\\":\\\"plan\\\"\"", FilterTarget.Events), 100, default);
        byName.Select(e => e.RunId).ShouldBe([runs[2].Id]);
    }

    [Fact]
    public async Task ClientEvents_DataThatLooksLikeARunEvent_IsStoredAndReturnedUnaltered()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = (await f.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;
        var runId = Guid.CreateVersion7();
        await f.WriteAsync(project, [new RunWrite { Id = runId, Name = "plan", StartedAt = Start }]);
        var lookalike = $$"""{"id":"{{runId:D}}","name":"plan","kind":"custom","status":"running"}""";
        string[] sent = [lookalike, "[1,2]", "\",\"", "3.5", "null", "{ \"spaced\" : true }"];
        await f.WriteAsync(project, events: [.. sent.Select((data, i) => new EventWrite
        {
            Type = EventTypes.RunCompleted,
            Time = Start,
            RunId = runId,
            Name = "plan",
            SessionId = "s",
            Data = RawJson.Parse(data),
            IdempotencyKey = "k" + i.ToString(CultureInfo.InvariantCulture),
        })]);

        var events = await f.Store.Reader.ReadEventsAsync(project, 0, FilterParser.Parse("session:s", FilterTarget.Events), 100, default);
        events.Select(e => e.Data!.Text).ShouldBe(sent);
        f.Scalar($"SELECT count(*) FROM events WHERE data = '{lookalike}'").ShouldBe(1);
    }

    [Fact]
    public async Task Sessions_NamedByRunsSessionWritesAndEvents_GetOneKeyEachAndEventsMakeNoSessionRow()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = (await f.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;
        var other = (await f.Store.Admin.GetOrCreateProjectAsync("q", default)).Id;
        var run = Guid.CreateVersion7();
        await f.WriteAsync(project, [new RunWrite { Id = run, StartedAt = Start, SessionId = "by-run" }]);
        await f.WriteAsync(project, sessions: [new SessionWrite { Id = "by-write", Name = "n" }]);
        await f.WriteAsync(project, events: [new EventWrite { Type = "note", Time = Start, SessionId = "by-event" }]);
        await f.WriteAsync(other, [new RunWrite { Id = Guid.CreateVersion7(), StartedAt = Start, SessionId = "by-run" }]);
        await f.WriteAsync(project, [new RunWrite { Id = Guid.CreateVersion7(), StartedAt = Start.AddSeconds(1), SessionId = "by-run" }]);

        f.Scalar("SELECT count(*) FROM session_keys").ShouldBe(4);
        f.Scalar("SELECT count(*) FROM session_keys WHERE id = 'by-run'").ShouldBe(2);
        var sessions = await f.Store.Reader.QuerySessionsAsync(project, new SessionQuery(null, 10, null), default);
        sessions.Items.Select(s => s.Id).Order(StringComparer.Ordinal).ShouldBe(["by-run", "by-write"]);
        (await f.Store.Reader.GetSessionAsync(project, "by-event", new SessionRunsQuery(), default)).ShouldBeNull();

        var noted = await f.Store.Reader.ReadEventsAsync(project, 0, FilterParser.Parse("session:by-event", FilterTarget.Events), 10, default);
        noted.Single().SessionId.ShouldBe("by-event");
        var byRun = await f.Store.Reader.QueryRunsAsync(project, new RunQuery(FilterParser.Parse("session:by-run", FilterTarget.Runs), 10, null), default);
        byRun.Items.Count.ShouldBe(2);
        byRun.Items.ShouldAllBe(r => r.SessionId == "by-run");
        (await f.Store.Reader.QueryRunsAsync(project, new RunQuery(FilterParser.Parse("session:by-run*", FilterTarget.Runs), 10, null), default)).Items.Count.ShouldBe(2);
        (await f.Store.Reader.QueryRunsAsync(project, new RunQuery(FilterParser.Parse("session:nowhere", FilterTarget.Runs), 10, null), default)).Items.ShouldBeEmpty();
        (await f.Store.Reader.QueryRunsAsync(project, new RunQuery(FilterParser.Parse("-session:nowhere", FilterTarget.Runs), 10, null), default)).Items.Count.ShouldBe(2);
        (await f.Store.Reader.QueryRunsAsync(other, new RunQuery(FilterParser.Parse("session:by-run", FilterTarget.Runs), 10, null), default)).Items.Count.ShouldBe(1);
    }

    [Fact]
    public async Task SessionFilter_PlansUseTheSessionIndexes()
    {
        await using var f = await StoreFixture.OpenAsync();
        var fragment = RunLedger.Sqlite.Query.SqliteFilterCompiler.CompileRuns(FilterParser.Parse("session:s1", FilterTarget.Runs)!, DateTimeOffset.UtcNow);
        Plan(f, $"SELECT {SqliteRows.RunColumnsOf("r")} FROM {SqliteRows.RunsFrom("r")} WHERE r.project_id = @project AND ({fragment.Sql}) ORDER BY r.started_at DESC, r.id DESC LIMIT 50", fragment)
            .ShouldContain("ix_runs_session ");
        Plan(f, $"SELECT {SqliteRows.RunColumnsOf("r")} FROM {SqliteRows.RunsFrom("r")} WHERE r.project_id = @p AND r.session_key = (SELECT sk.key FROM session_keys sk WHERE sk.project_id = @p AND sk.id = @id) AND r.parent_id IS NULL ORDER BY r.started_at DESC, r.id DESC LIMIT 50", null)
            .ShouldContain("ix_runs_session_roots");
        Plan(f, "SELECT status, count(*) FROM runs WHERE project_id = @p AND session_key = (SELECT sk.key FROM session_keys sk WHERE sk.project_id = @p AND sk.id = @id) GROUP BY status", null)
            .ShouldContain("COVERING INDEX ix_runs_session_status");
    }

    [Fact]
    public async Task Migration_LedgerOfVersion7_UpgradesInPlaceAndReadsBackTheSame()
    {
        var directory = Path.Combine(Path.GetTempPath(), "runledger-store-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "runledger.db");
        var root = Guid.CreateVersion7();
        var child = Guid.CreateVersion7();
        var loose = Guid.CreateVersion7();
        var us = StorageUnits.ToMicros(Start);
        var rootEvent = $$"""{"id":"{{root:D}}","name":"plan \u003Cv7\u003E","kind":"agent","status":"failed","error":"x"}""";
        await using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await connection.OpenAsync();
            await SqliteMigrator.MigrateAsync(connection, 7, default);
            using var command = connection.CreateCommand();
            command.CommandText =
                "INSERT INTO projects (id, name, created_at) VALUES (1, 'p', 0), (2, 'q', 0);" +
                "INSERT INTO sessions (project_id, id, state, started_at, run_count, failed_count, created_at, updated_at) VALUES (1, 's1', 'active', @us, 2, 1, 0, 0), (2, 's1', 'active', @us, 1, 0, 0, 0);" +
                "INSERT INTO runs (project_id, id, session_id, parent_id, kind, name, status, started_at, source, created_at, updated_at) VALUES " +
                "(1, @root, 's1', NULL, 'agent', 'plan <v7>', 'failed', @us, 'api', 0, 0)," +
                "(1, @child, 's1', @root, 'llm', 'step', 'succeeded', @us + 1, 'api', 0, 0)," +
                "(1, @loose, NULL, NULL, 'tool', NULL, 'succeeded', @us + 2, 'api', 0, 0)," +
                "(2, @other, 's1', NULL, 'tool', NULL, 'succeeded', @us, 'api', 0, 0);" +
                "INSERT INTO events (project_id, type, time, session_id, run_id, name, data, idempotency_key) VALUES " +
                "(1, 'session.started', @us, 's1', NULL, NULL, '{\"id\":\"s1\",\"state\":\"active\"}', NULL)," +
                "(1, 'run.failed', @us, 's1', @root, 'plan <v7>', @rootEvent, NULL)," +
                "(1, 'note', @us, 'only-events', NULL, NULL, '{\"n\":1}', 'k1');" +
                "UPDATE fts_progress SET indexed_seq = (SELECT max(seq) FROM runs);";
            command.Parameters.AddWithValue("@us", us);
            command.Parameters.AddWithValue("@root", StorageUnits.ToBytes(root));
            command.Parameters.AddWithValue("@child", StorageUnits.ToBytes(child));
            command.Parameters.AddWithValue("@loose", StorageUnits.ToBytes(loose));
            command.Parameters.AddWithValue("@other", StorageUnits.ToBytes(Guid.CreateVersion7()));
            command.Parameters.AddWithValue("@rootEvent", rootEvent);
            await command.ExecuteNonQueryAsync();
        }

        await using var f = await StoreFixture.OpenAsync(directory: directory);
        f.Scalar("SELECT max(version) FROM schema_version").ShouldBe(SqliteMigrator.Migrations.Max(m => m.Version));
        f.Scalar("SELECT count(*) FROM session_keys").ShouldBe(3);
        f.Scalar("SELECT count(*) FROM pragma_table_info('runs') WHERE name = 'session_id'").ShouldBe(0);
        f.Scalar("SELECT count(*) FROM pragma_table_info('events') WHERE name = 'session_id'").ShouldBe(0);
        f.Scalar("SELECT count(*) FROM pragma_integrity_check WHERE integrity_check <> 'ok'").ShouldBe(0);

        var reader = f.Store.Reader;
        var detail = await reader.GetRunAsync(1, root, default);
        detail!.Run.SessionId.ShouldBe("s1");
        detail.Children.Select(c => c.Id).ShouldBe([child]);
        detail.Children.Single().SessionId.ShouldBe("s1");
        detail.Events.Single().Data!.Text.ShouldBe(rootEvent);
        (await reader.GetRunAsync(1, loose, default))!.Run.SessionId.ShouldBeNull();

        var session = await reader.GetSessionAsync(1, "s1", new SessionRunsQuery(), default);
        session!.Runs.Select(r => r.Id).ShouldBe([root]);
        session.RunsByStatus.Select(s => (s.Status, s.Count)).ShouldBe([("failed", 1L), ("succeeded", 1L)]);
        (await reader.QuerySessionsAsync(1, new SessionQuery(null, 10, null), default)).Items.Select(s => s.Id).ShouldBe(["s1"]);

        var inSession = await reader.QueryRunsAsync(1, new RunQuery(FilterParser.Parse("session:s1", FilterTarget.Runs), 10, null), default);
        inSession.Items.Select(r => r.Id).ShouldBe([child, root]);
        (await reader.QueryRunsAsync(2, new RunQuery(FilterParser.Parse("session:s1", FilterTarget.Runs), 10, null), default)).Items.Count.ShouldBe(1);
        var noted = await reader.ReadEventsAsync(1, 0, FilterParser.Parse("session:only-events", FilterTarget.Events), 10, default);
        noted.Single().Data!.Text.ShouldBe("{\"n\":1}");
        var exported = await f.Store.Transfer.ExportEventsAsync("p", 0, 10, default);
        exported.Select(e => (e.SessionId, e.Data)).ShouldBe([("s1", "{\"id\":\"s1\",\"state\":\"active\"}"), ("s1", rootEvent), ("only-events", "{\"n\":1}")]);

        // New writes reuse the keys the migration made.
        var fresh = Guid.CreateVersion7();
        await f.WriteAsync(1, [new RunWrite { Id = fresh, Name = "later", StartedAt = Start.AddMinutes(1), EndedAt = Start.AddMinutes(2), SessionId = "s1" }]);
        await f.WriteAsync(1, events: [new EventWrite { Type = "note", Time = Start, SessionId = "only-events" }]);
        f.Scalar("SELECT count(*) FROM session_keys").ShouldBe(3);
        (await reader.GetSessionAsync(1, "s1", new SessionRunsQuery(), default))!.Session.RunCount.ShouldBe(3);
        var sessionEvents = await reader.ReadEventsAsync(1, 0, FilterParser.Parse("session:s1", FilterTarget.Events), 10, default);
        sessionEvents.Select(e => e.Type).ShouldBe(["session.started", "run.failed", "run.completed"]);
        sessionEvents[^1].Data!.Text.ShouldStartWith($$"""{"id":"{{fresh:D}}","name":"later","kind":""");
        (await reader.ReadEventsAsync(1, 0, FilterParser.Parse("session:only-events", FilterTarget.Events), 10, default)).Count.ShouldBe(2);
    }

    private static RunRow ReadRow(StoreFixture f, Guid id)
    {
        using var connection = new SqliteConnection($"Data Source={f.DatabasePath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {SqliteRows.RunColumnsOf("r")} FROM {SqliteRows.RunsFrom("r")} WHERE r.id = @id;";
        command.Parameters.AddWithValue("@id", StorageUnits.ToBytes(id));
        using var reader = command.ExecuteReader();
        reader.Read().ShouldBeTrue();
        return SqliteRows.ReadRun(reader);
    }

    private static string Plan(StoreFixture f, string sql, SqlFragment? fragment)
    {
        using var connection = new SqliteConnection($"Data Source={f.DatabasePath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + sql;
        command.Parameters.AddWithValue("@project", 1);
        command.Parameters.AddWithValue("@p", 1);
        command.Parameters.AddWithValue("@id", "s1");
        foreach (var (name, value) in fragment?.Parameters ?? [])
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        using var reader = command.ExecuteReader();
        var plan = new List<string>();
        while (reader.Read())
        {
            plan.Add(reader.GetString(3));
        }

        return string.Join("\n", plan) + "\n";
    }
}
