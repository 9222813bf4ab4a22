using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Npgsql;
using RunLedger.Core.Payloads;
using RunLedger.Postgres;
using RunLedger.Postgres.Testing;

namespace RunLedger.Benchmarks;

/// <summary>
/// The PostgreSQL store's indexes before and after a migration, on the same runs: one database on
/// the schema of the previous version, one on the newest, and one on the newest plus candidate
/// indexes that were considered, each loaded with the same nightly workload in time order through
/// the real store. Reports every index's size (summed over the monthly partitions) and leaf
/// density as the load left them, and for the readers' queries the plan (which indexes), the
/// buffers touched and the median time, old schema against new in one process.
/// </summary>
internal sealed class PostgresIndexScenario : IScenario
{
    private const int LoadBatch = 200;
    private const int Repeats = 201;

    /// <summary>Indexes measured beside the chosen ones (database "candidates"), named by what they are.</summary>
    private static readonly string[] Candidates =
    [
        "CREATE INDEX cand_status_asc ON runs (project_id, status, started_at)",
        "CREATE INDEX cand_status_asc_id ON runs (project_id, status, started_at, id)",
        "CREATE INDEX cand_model_asc_id ON runs (project_id, model, started_at, id)",
        "CREATE INDEX cand_name_asc ON runs (project_id, name, started_at)",
        "CREATE INDEX cand_name_asc_id ON runs (project_id, name, started_at, id)",
        "CREATE INDEX cand_session_asc_id ON runs (project_id, session_id, started_at, id) WHERE session_id IS NOT NULL",
        "CREATE INDEX cand_session_desc_id ON runs (project_id, session_id, started_at DESC, id DESC) WHERE session_id IS NOT NULL",
        "CREATE INDEX cand_session_roots_desc ON runs (project_id, session_id, started_at DESC) WHERE session_id IS NOT NULL AND parent_id IS NULL",
        "CREATE INDEX cand_session_roots_asc_id ON runs (project_id, session_id, started_at, id) WHERE session_id IS NOT NULL AND parent_id IS NULL",
        "CREATE INDEX cand_session_include_status ON runs (project_id, session_id, started_at) INCLUDE (status) WHERE session_id IS NOT NULL",
        "CREATE INDEX cand_runs_time_desc ON runs (project_id, started_at DESC, id DESC)",
        "CREATE INDEX cand_sessions_started_desc ON sessions (project_id, started_at DESC, id DESC)",
    ];

    public string Name => "indexes-postgres";

    public string Description => "PostgreSQL index sizes and query plans, previous schema vs newest, same runs";

    public async Task<ScenarioReport> RunAsync(BenchmarkArguments arguments, CancellationToken cancellationToken)
    {
        var runCount = arguments.RunCount(20_000, 100_000);
        var workload = new NightlyWorkload(runCount, nights: 7, seed: 7);
        var previous = PostgresMigrator.LatestVersion - 1;
        await using var server = await PostgresServer.StartAsync(arguments.Postgres, durable: false, cancellationToken).ConfigureAwait(false);

        var before = server.ConnectionString(await server.CreateDatabaseAsync(cancellationToken).ConfigureAwait(false));
        var after = server.ConnectionString(await server.CreateDatabaseAsync(cancellationToken).ConfigureAwait(false));
        var candidates = server.ConnectionString(await server.CreateDatabaseAsync(cancellationToken).ConfigureAwait(false));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"indexes-postgres: {runCount} runs over {workload.Nights} nights into three databases (schema {previous}, {PostgresMigrator.LatestVersion}, {PostgresMigrator.LatestVersion} + candidates)"));
        var loadBefore = await LoadAsync(before, workload, previous, [], cancellationToken).ConfigureAwait(false);
        var loadAfter = await LoadAsync(after, workload, null, [], cancellationToken).ConfigureAwait(false);
        var loadCandidates = await LoadAsync(candidates, workload, null, Candidates, cancellationToken).ConfigureAwait(false);

        var sizesBefore = await IndexSizesAsync(before, cancellationToken).ConfigureAwait(false);
        var sizesAfter = await IndexSizesAsync(after, cancellationToken).ConfigureAwait(false);
        var sizesCandidates = await IndexSizesAsync(candidates, cancellationToken).ConfigureAwait(false);

        var report = new ScenarioReport
        {
            Scenario = Name,
            Title = string.Create(CultureInfo.InvariantCulture, $"PostgreSQL indexes: schema {previous} vs {PostgresMigrator.LatestVersion} ({runCount:N0} runs)"),
            Columns = ["index", "table", $"schema {previous}: KiB", $"schema {PostgresMigrator.LatestVersion}: KiB", "leaf density (after)", "candidate db: KiB", "candidate leaf density"],
            Command = "dotnet run -c Release --project benchmarks/RunLedger.Benchmarks -- indexes-postgres" + (arguments.Quick ? " --quick" : ""),
        };
        foreach (var name in sizesBefore.Keys.Union(sizesAfter.Keys).Union(sizesCandidates.Keys).Order(StringComparer.Ordinal))
        {
            var b = sizesBefore.GetValueOrDefault(name);
            var a = sizesAfter.GetValueOrDefault(name);
            var c = sizesCandidates.GetValueOrDefault(name);
            report.Rows.Add([name, (a ?? b ?? c)!.Table, Kib(b), Kib(a), Density(a), Kib(c), Density(c)]);
            report.Metrics[name + "_before_bytes"] = b?.Bytes ?? 0;
            report.Metrics[name + "_after_bytes"] = a?.Bytes ?? 0;
        }

        report.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"Load through the store, {LoadBatch} runs a request, oldest night first: schema {previous} {loadBefore.TotalSeconds:0.0} s, schema {PostgresMigrator.LatestVersion} {loadAfter.TotalSeconds:0.0} s, with candidates {loadCandidates.TotalSeconds:0.0} s (shared machine). Then VACUUM ANALYZE each database."));
        report.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"Totals: runs indexes {Kib(Total(sizesBefore, "runs"))} -> {Kib(Total(sizesAfter, "runs"))} KiB, sessions indexes {Kib(Total(sizesBefore, "sessions"))} -> {Kib(Total(sizesAfter, "sessions"))} KiB."));

        foreach (var (label, sql, parameters) in await QueriesAsync(after, cancellationToken).ConfigureAwait(false))
        {
            var planBefore = await ExplainAsync(before, sql, parameters, cancellationToken).ConfigureAwait(false);
            var planAfter = await ExplainAsync(after, sql, parameters, cancellationToken).ConfigureAwait(false);
            var (timeBefore, timeAfter) = await TimeAlternatingAsync(before, after, sql, parameters, cancellationToken).ConfigureAwait(false);
            report.Notes.Add(string.Create(
                CultureInfo.InvariantCulture,
                $"{label}: schema {previous}: {planBefore.Plan} ({planBefore.Buffers} buffers, {planBefore.Rows} rows read from indexes/tables, median {timeBefore:0.000} ms); schema {PostgresMigrator.LatestVersion}: {planAfter.Plan} ({planAfter.Buffers} buffers, {planAfter.Rows} rows, median {timeAfter:0.000} ms); time ratio {timeBefore / timeAfter:0.00}x"));
            Console.WriteLine(report.Notes[^1]);
        }

        // Last, as an operator would: upgrade the old database in place and time the migration.
        var upgrade = Stopwatch.StartNew();
        await using (var upgraded = new PostgresLedgerStore(before, new PostgresStoreOptions(), new PayloadOptions(), TimeProvider.System))
        {
            await upgraded.InitializeAsync(cancellationToken).ConfigureAwait(false);
        }

        var upgradeTime = upgrade.Elapsed;
        var sizesUpgraded = await IndexSizesAsync(before, cancellationToken).ConfigureAwait(false);
        report.Notes.Add(string.Create(
            CultureInfo.InvariantCulture,
            $"Upgrading the schema {previous} database in place to {PostgresMigrator.LatestVersion} took {upgradeTime.TotalSeconds:0.0} s (writers wait that long); its runs indexes are then {Kib(Total(sizesUpgraded, "runs"))} KiB (new indexes freshly built, so packed: {string.Join(", ", sizesUpgraded.Where(x => !sizesBefore.TryGetValue(x.Key, out var old) || old.Bytes != x.Value.Bytes).OrderBy(x => x.Key, StringComparer.Ordinal).Select(x => x.Key + " " + Kib(x.Value) + " KiB"))})."));
        Console.WriteLine(report.Notes[^1]);
        return report;
    }

    private sealed record IndexSize(string Table, long Bytes, double? Density);

    private static string Kib(IndexSize? size) => size is null ? "-" : Kib(size.Bytes);

    private static string Kib(long bytes) => (bytes / 1024.0).ToString("N0", CultureInfo.InvariantCulture);

    private static string Density(IndexSize? size) => size?.Density is { } d ? d.ToString("0.0", CultureInfo.InvariantCulture) + " %" : "-";

    private static long Total(Dictionary<string, IndexSize> sizes, string table) => sizes.Values.Where(s => s.Table == table).Sum(s => s.Bytes);

    private static async Task<TimeSpan> LoadAsync(string connectionString, NightlyWorkload workload, int? schemaVersion, string[] extraIndexes, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        await using (var ledger = await InProcessLedger.OpenPostgresAsync(connectionString, new PayloadOptions(), cancellationToken, schemaVersion).ConfigureAwait(false))
        {
            foreach (var sql in extraIndexes)
            {
                await ExecuteAsync(connectionString, sql, cancellationToken).ConfigureAwait(false);
            }

            foreach (var request in workload.Requests(LoadBatch))
            {
                await ledger.SubmitAsync(request, cancellationToken).ConfigureAwait(false);
            }
        }

        var elapsed = clock.Elapsed;
        await ExecuteAsync(connectionString, "VACUUM ANALYZE", cancellationToken).ConfigureAwait(false);
        return elapsed;
    }

    /// <summary>Each B-tree index of runs and sessions, by its name on the parent table: bytes over all partitions and the average leaf density (pgstattuple, when it can be created).</summary>
    private static async Task<Dictionary<string, IndexSize>> IndexSizesAsync(string connectionString, CancellationToken cancellationToken)
    {
        var density = true;
        try
        {
            await ExecuteAsync(connectionString, "CREATE EXTENSION IF NOT EXISTS pgstattuple", cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException)
        {
            density = false;
        }

        var sql =
            "WITH leaves AS (" +
            " SELECT coalesce(p.relname, c.relname) AS name, t.relname AS tbl, c.oid AS oid FROM pg_class c" +
            " JOIN pg_index x ON x.indexrelid = c.oid JOIN pg_class t ON t.oid = x.indrelid JOIN pg_am am ON am.oid = c.relam" +
            " LEFT JOIN pg_inherits i ON i.inhrelid = c.oid LEFT JOIN pg_class p ON p.oid = i.inhparent" +
            " WHERE am.amname = 'btree' AND c.relkind = 'i' AND (t.relname LIKE 'runs%' OR t.relname = 'sessions') AND t.relname NOT LIKE 'run_ids%' AND c.relnamespace = current_schema()::regnamespace)" +
            " SELECT name, CASE WHEN min(tbl) LIKE 'runs%' THEN 'runs' ELSE 'sessions' END, sum(pg_relation_size(oid))::bigint, " +
            (density ? "sum((pgstatindex(oid::regclass)).avg_leaf_density * pg_relation_size(oid)) FILTER (WHERE pg_relation_size(oid) > 8192) / nullif(sum(pg_relation_size(oid)) FILTER (WHERE pg_relation_size(oid) > 8192), 0)" : "NULL::float8") +
            " FROM leaves GROUP BY name";
        var sizes = new Dictionary<string, IndexSize>(StringComparer.Ordinal);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            sizes[reader.GetString(0)] = new IndexSize(reader.GetString(1), reader.GetInt64(2), reader.IsDBNull(3) ? null : Convert.ToDouble(reader.GetValue(3), CultureInfo.InvariantCulture));
        }

        return sizes;
    }

    /// <summary>The readers' queries, with the values of the busiest session, a parent run and a day of the loaded workload.</summary>
    private static async Task<List<(string Label, string Sql, Dictionary<string, object> Parameters)>> QueriesAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            "SELECT (SELECT session_id FROM runs WHERE session_id IS NOT NULL GROUP BY session_id ORDER BY count(*) DESC LIMIT 1), " +
            "(SELECT parent_id FROM runs WHERE parent_id IS NOT NULL GROUP BY parent_id ORDER BY count(*) DESC LIMIT 1), (SELECT max(started_at) FROM runs), (SELECT min(id) FROM projects)",
            connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        var session = reader.GetString(0);
        var parent = reader.GetGuid(1);
        var newest = reader.GetInt64(2);
        var project = reader.GetInt64(3);
        var day = 86_400_000_000L;
        var columns = PostgresRows.Prefixed("r");
        Dictionary<string, object> P(params (string, object)[] values) => values.ToDictionary(v => v.Item1, v => v.Item2, StringComparer.Ordinal);
        return
        [
            ("session summary, top-level runs", PostgresReader.SessionRootsSql(afterCursor: false), P(("p", project), ("id", session), ("limit", 51))),
            ("session summary, counts by status", PostgresReader.SessionStatusSql, P(("p", project), ("id", session))),
            ("first page of session:X", $"SELECT {columns} FROM runs r WHERE r.project_id = @p AND (r.session_id = @id) ORDER BY r.started_at DESC, r.id DESC LIMIT 51", P(("p", project), ("id", session))),
            ("first page of status:failed", $"SELECT {columns} FROM runs r WHERE r.project_id = @p AND (r.status = 'failed') ORDER BY r.started_at DESC, r.id DESC LIMIT 51", P(("p", project))),
            ("first page of model:X", $"SELECT {columns} FROM runs r WHERE r.project_id = @p AND (r.model = (SELECT model FROM runs WHERE model IS NOT NULL LIMIT 1)) ORDER BY r.started_at DESC, r.id DESC LIMIT 51", P(("p", project))),
            ("first page, no filter", $"SELECT {columns} FROM runs r WHERE r.project_id = @p ORDER BY r.started_at DESC, r.id DESC LIMIT 51", P(("p", project))),
            ("children of a run", $"SELECT {PostgresRows.RunColumns} FROM runs WHERE project_id = @p AND parent_id = @id ORDER BY started_at, id LIMIT 10000", P(("p", project), ("id", parent))),
            ("session list, first page", "SELECT s.id FROM sessions s WHERE s.project_id = @p ORDER BY s.started_at DESC NULLS LAST, s.id DESC LIMIT 51", P(("p", project))),
            ("stats runs part, the last day", "SELECT r.started_at, r.status, r.input_tokens, r.output_tokens, r.cost_nanos, r.duration_us FROM runs r WHERE r.project_id = @p AND r.started_at >= @from AND r.started_at < @to", P(("p", project), ("from", newest - day), ("to", newest + 1))),
        ];
    }

    private static async Task<(string Plan, long Buffers, long Rows)> ExplainAsync(string connectionString, string sql, Dictionary<string, object> parameters, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        var parents = new Dictionary<string, string>(StringComparer.Ordinal);
        await using (var map = new NpgsqlCommand("SELECT c.relname, p.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent WHERE c.relkind = 'i'", connection))
        await using (var reader = await map.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                parents[reader.GetString(0)] = reader.GetString(1);
            }
        }

        await using var command = new NpgsqlCommand("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        var json = (string)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement[0].GetProperty("Plan");
        var steps = new List<string>();
        long rows = 0;
        Walk(root);
        var plan = string.Join(" > ", steps.Distinct(StringComparer.Ordinal));
        var buffers = root.GetProperty("Shared Hit Blocks").GetInt64() + root.GetProperty("Shared Read Blocks").GetInt64();
        return (plan, buffers, rows);

        void Walk(JsonElement node)
        {
            var type = node.GetProperty("Node Type").GetString()!;
            if (node.TryGetProperty("Index Name", out var index))
            {
                var name = index.GetString()!;
                var direction = node.TryGetProperty("Scan Direction", out var d) && d.GetString() == "Backward" ? " backward" : "";
                steps.Add($"{type}{direction} ({parents.GetValueOrDefault(name, name)})");
            }
            else if (type is not "Append" and not "Merge Append" and not "Limit")
            {
                steps.Add(type);
            }

            if (type.Contains("Scan", StringComparison.Ordinal))
            {
                rows += node.GetProperty("Actual Rows").GetInt64() * node.GetProperty("Actual Loops").GetInt64();
                if (node.TryGetProperty("Rows Removed by Filter", out var removed))
                {
                    rows += removed.GetInt64() * node.GetProperty("Actual Loops").GetInt64();
                }
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

    /// <summary>Median milliseconds of the query on each database, calls alternating so both see the same machine.</summary>
    private static async Task<(double Before, double After)> TimeAlternatingAsync(string before, string after, string sql, Dictionary<string, object> parameters, CancellationToken cancellationToken)
    {
        await using var a = new NpgsqlConnection(before);
        await using var b = new NpgsqlConnection(after);
        await a.OpenAsync(cancellationToken).ConfigureAwait(false);
        await b.OpenAsync(cancellationToken).ConfigureAwait(false);
        var timesA = new List<double>();
        var timesB = new List<double>();
        for (var i = 0; i < Repeats + 3; i++)
        {
            var ta = await TimeOnceAsync(a, sql, parameters, cancellationToken).ConfigureAwait(false);
            var tb = await TimeOnceAsync(b, sql, parameters, cancellationToken).ConfigureAwait(false);
            if (i >= 3)
            {
                timesA.Add(ta);
                timesB.Add(tb);
            }
        }

        return (Median(timesA), Median(timesB));

        static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
    }

    private static async Task<double> TimeOnceAsync(NpgsqlConnection connection, string sql, Dictionary<string, object> parameters, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        var clock = Stopwatch.StartNew();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
        }

        return clock.Elapsed.TotalMilliseconds;
    }

    private static async Task ExecuteAsync(string connectionString, string sql, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 600 };
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
