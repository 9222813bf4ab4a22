using System.Globalization;
using System.Text.Json;
using Npgsql;
using RunLedger.Core;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Query;
using RunLedger.Core.Storage;

namespace RunLedger.Postgres.Tests.Store;

/// <summary>
/// The indexes of migration 0004 on a ledger big enough that the planner weighs them (after
/// ANALYZE): the session summary reads root runs and status counts from its own indexes, the
/// session list pages from its index in its order, and upgrading a ledger with data keeps every
/// answer.
/// </summary>
public sealed class IndexTests(PostgresFixture fixture)
{
    private const int Sessions = 40;
    private const int RootsPerSession = 15;
    private const int ChildrenPerRoot = 4;
    private static readonly RunStatus[] Statuses = [RunStatus.Succeeded, RunStatus.Succeeded, RunStatus.Failed, RunStatus.Timeout, RunStatus.Succeeded];

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SessionSummary_ReadsRootRunsAndStatusCountsFromTheSessionIndexes()
    {
        await using var f = await PgStore.OpenAsync(fixture.Server);
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", Cancel);
        await LoadAsync(f.Store, project.Id);
        await f.ExecuteAsync("VACUUM ANALYZE");

        var roots = await ExplainAsync(f.ConnectionString, PostgresReader.SessionRootsSql(afterCursor: false), project.Id, "s-7", ("limit", 51));
        roots.ShouldContain("ix_runs_session_roots", customMessage: string.Join(", ", roots));
        var later = await ExplainAsync(f.ConnectionString, PostgresReader.SessionRootsSql(afterCursor: true), project.Id, "s-7", ("limit", 51), ("ctime", StorageUnits.ToMicros(PgStore.Day.AddDays(1))), ("cid", Guid.Empty));
        later.ShouldContain("ix_runs_session_roots", customMessage: string.Join(", ", later));
        var counts = await ExplainAsync(f.ConnectionString, PostgresReader.SessionStatusSql, project.Id, "s-7");
        counts.ShouldContain("ix_runs_session_status", customMessage: string.Join(", ", counts));

        var detail = (await f.Store.Reader.GetSessionAsync(project.Id, "s-7", Cancel))!;
        detail.Runs.Count.ShouldBe(RootsPerSession);
        detail.Runs.ShouldAllBe(r => r.ParentId == null);
        detail.Runs.Select(r => r.StartedAt).ShouldBeInOrder(SortDirection.Descending);
        detail.RunsByStatus.Sum(s => s.Count).ShouldBe(RootsPerSession * (1 + ChildrenPerRoot));
    }

    [Fact]
    public async Task SessionList_PagesFromTheSessionIndexWithoutSorting()
    {
        await using var f = await PgStore.OpenAsync(fixture.Server);
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", Cancel);
        for (var chunk = 0; chunk < 4; chunk++)
        {
            await f.WriteAsync(project.Id, sessions: [.. Enumerable.Range(chunk * 1000, 1000).Select(i => new SessionWrite
            {
                Id = "s-" + i.ToString("D5", CultureInfo.InvariantCulture),
                StartedAt = PgStore.Day.AddMinutes(i),
            })]);
        }

        await f.ExecuteAsync("VACUUM ANALYZE");
        var first = await f.Store.Reader.QuerySessionsAsync(project.Id, new SessionQuery(null, 50, null), Cancel);
        var cursor = first.NextCursor!;
        var (time, id) = Cursors.Decode(cursor);
        var plan = await ExplainAsync(
            f.ConnectionString,
            "SELECT s.id FROM sessions s WHERE s.project_id = @p AND (s.started_at, s.id) < (@ctime, @cid) ORDER BY s.started_at DESC NULLS LAST, s.id DESC LIMIT 51",
            project.Id,
            null,
            ("ctime", time),
            ("cid", System.Text.Encoding.UTF8.GetString(id)));
        plan.ShouldContain("ix_sessions_started", customMessage: string.Join(", ", plan));
        plan.ShouldNotContain("Sort", customMessage: string.Join(", ", plan));

        var second = await f.Store.Reader.QuerySessionsAsync(project.Id, new SessionQuery(null, 50, cursor), Cancel);
        first.Items[0].Id.ShouldBe("s-03999");
        second.Items[0].Id.ShouldBe("s-03949");
        second.Items[^1].Id.ShouldBe("s-03900");
    }

    [Fact]
    public async Task Migrate_LedgerWithData_AddsTheIndexesOnEveryPartitionAndAnswersStayTheSame()
    {
        var database = await fixture.Server.CreateDatabaseAsync(Cancel);
        var connectionString = fixture.Server.ConnectionString(database);
        string before;
        long projectId;
        await using (var old = new PostgresLedgerStore(connectionString, new PostgresStoreOptions(), new Core.Payloads.PayloadOptions(), TimeProvider.System) { KnownSchemaVersion = 3 })
        {
            await old.InitializeAsync(Cancel);
            projectId = (await old.Admin.GetOrCreateProjectAsync("p", Cancel)).Id;
            await LoadAsync(old, projectId);

            // A run months away, so the ledger has partitions besides the current ones.
            await PgStore.WriteWithAsync(old, projectId, [new RunWrite { Id = Guid.CreateVersion7(), SessionId = "s-1", StartedAt = PgStore.Day.AddMonths(-5), Status = RunStatus.Failed }]);
            (await ScalarAsync(connectionString, "SELECT count(*) FROM pg_class WHERE relname = 'ix_runs_session_roots'")).ShouldBe(0);
            before = await AnswersAsync(old, projectId);
        }

        await using var upgraded = PgStore.Create(connectionString);
        await upgraded.InitializeAsync(Cancel);

        (await ScalarAsync(connectionString, "SELECT max(version) FROM schema_version")).ShouldBe(4);
        var partitions = await ScalarAsync(connectionString, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'runs'::regclass");
        partitions.ShouldBeGreaterThan(4);
        foreach (var index in new[] { "ix_runs_session_roots", "ix_runs_session_status" })
        {
            (await ScalarAsync(connectionString, $"SELECT count(*) FROM pg_inherits WHERE inhparent = '{index}'::regclass")).ShouldBe(partitions, index);
        }

        (await ScalarAsync(connectionString, "SELECT count(*) FROM pg_index WHERE indexrelid = 'ix_sessions_started'::regclass AND indisvalid")).ShouldBe(1);
        (await AnswersAsync(upgraded, projectId)).ShouldBe(before);
    }

    /// <summary>Sessions s-0.. with root runs (statuses mixed) and child runs under each root, in time order.</summary>
    private static async Task LoadAsync(PostgresLedgerStore store, long projectId)
    {
        var start = PgStore.Day;
        var n = 0;
        for (var s = 0; s < Sessions; s++)
        {
            var runs = new List<RunWrite>();
            for (var r = 0; r < RootsPerSession; r++)
            {
                var root = Guid.CreateVersion7();
                var at = start.AddSeconds(n++);
                runs.Add(new RunWrite { Id = root, SessionId = "s-" + s.ToString(CultureInfo.InvariantCulture), Name = "agent", Status = Statuses[r % Statuses.Length], StartedAt = at, EndedAt = at.AddSeconds(1) });
                for (var c = 0; c < ChildrenPerRoot; c++)
                {
                    var childAt = start.AddSeconds(n++);
                    runs.Add(new RunWrite { Id = Guid.CreateVersion7(), SessionId = "s-" + s.ToString(CultureInfo.InvariantCulture), ParentId = root, Name = "step", Status = Statuses[(r + c) % Statuses.Length], StartedAt = childAt, EndedAt = childAt.AddSeconds(1) });
                }
            }

            await PgStore.WriteWithAsync(store, projectId, runs);
        }
    }

    /// <summary>What the readers answer about the loaded ledger, as JSON: session summaries, the session list in pages, and filter pages.</summary>
    private static async Task<string> AnswersAsync(PostgresLedgerStore store, long projectId)
    {
        var answers = new List<object?>();
        foreach (var id in new[] { "s-0", "s-1", "s-39", "missing" })
        {
            answers.Add(await store.Reader.GetSessionAsync(projectId, id, Cancel));
        }

        string? cursor = null;
        do
        {
            var page = await store.Reader.QuerySessionsAsync(projectId, new SessionQuery(null, 7, cursor), Cancel);
            answers.Add(page);
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        foreach (var filter in new[] { "session:s-1", "status:failed", "status:failed session:s-2", "name:step" })
        {
            answers.Add(await store.Reader.QueryRunsAsync(projectId, new RunQuery(FilterParser.Parse(filter, FilterTarget.Runs), 25, null), Cancel));
        }

        return JsonSerializer.Serialize(answers, LedgerJson.Options);
    }

    /// <summary>The plan's node types and index names (a partition's index named by the index on runs or sessions it belongs to).</summary>
    private static async Task<List<string>> ExplainAsync(string connectionString, string sql, long projectId, string? sessionId, params (string Name, object Value)[] more)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Cancel);
        var parents = new Dictionary<string, string>(StringComparer.Ordinal);
        await using (var map = new NpgsqlCommand("SELECT c.relname, p.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent WHERE c.relkind = 'i'", connection))
        await using (var reader = await map.ExecuteReaderAsync(Cancel))
        {
            while (await reader.ReadAsync(Cancel))
            {
                parents[reader.GetString(0)] = reader.GetString(1);
            }
        }

        await using var command = new NpgsqlCommand("EXPLAIN (FORMAT JSON) " + sql, connection);
        command.Parameters.AddWithValue("p", projectId);
        if (sessionId is not null)
        {
            command.Parameters.AddWithValue("id", sessionId);
        }

        foreach (var (name, value) in more)
        {
            command.Parameters.AddWithValue(name, value);
        }

        using var plan = JsonDocument.Parse((string)(await command.ExecuteScalarAsync(Cancel))!);
        var found = new List<string>();
        Walk(plan.RootElement[0].GetProperty("Plan"));
        return found;

        void Walk(JsonElement node)
        {
            found.Add(node.GetProperty("Node Type").GetString()!);
            if (node.TryGetProperty("Index Name", out var index))
            {
                found.Add(parents.GetValueOrDefault(index.GetString()!, index.GetString()!));
            }

            if (node.TryGetProperty("Plans", out var children))
            {
                foreach (var child in children.EnumerateArray())
                {
                    Walk(child);
                }
            }
        }
    }

    private static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Cancel);
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(Cancel), CultureInfo.InvariantCulture);
    }
}
