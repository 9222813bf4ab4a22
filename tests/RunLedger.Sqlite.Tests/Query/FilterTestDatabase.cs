using Microsoft.Data.Sqlite;
using RunLedger.Core.Query;
using RunLedger.Sqlite.Query;

namespace RunLedger.Sqlite.Tests.Query;

/// <summary>A real SQLite file in a temp directory with the schema migration applied and a few rows.</summary>
internal sealed class FilterTestDatabase : IDisposable
{
    public static readonly DateTimeOffset Now = new(2026, 11, 10, 12, 0, 0, TimeSpan.Zero);

    public static readonly Guid Summarize = Guid.Parse("0192f0c4-6d2a-7cc1-9a3e-000000000001");
    public static readonly Guid Chat = Guid.Parse("0192f0c4-6d2a-7cc1-9a3e-000000000002");
    public static readonly Guid Search = Guid.Parse("0192f0c4-6d2a-7cc1-9a3e-000000000003");
    public static readonly Guid Plan = Guid.Parse("0192f0c4-6d2a-7cc1-9a3e-000000000004");
    public static readonly Guid Classify = Guid.Parse("0192f0c4-6d2a-7cc1-9a3e-000000000005");

    private readonly string _path;

    public FilterTestDatabase()
    {
        _path = Path.Combine(Path.GetTempPath(), $"runledger-filter-{Guid.NewGuid():N}.db");
        Connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _path, Pooling = false }.ToString());
        Connection.Open();
        Execute(ReadMigration());
        Seed();
    }

    public SqliteConnection Connection { get; }

    public static string ReadMigration()
    {
        using var stream = typeof(SqlFragment).Assembly.GetManifestResourceStream("RunLedger.Sqlite.Migrations.0001_initial.sql")
            ?? throw new InvalidOperationException("Migration resource not found.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public static long Micros(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    public IReadOnlyList<string> Runs(string filter) => Select("SELECT r.name FROM runs r WHERE {0} ORDER BY r.seq", Compile(filter, FilterTarget.Runs));

    public IReadOnlyList<string> Events(string filter) => Select("SELECT e.idempotency_key FROM events e WHERE {0} ORDER BY e.id", Compile(filter, FilterTarget.Events));

    public IReadOnlyList<string> Sessions(string filter) => Select("SELECT s.id FROM sessions s WHERE {0} ORDER BY s.id", Compile(filter, FilterTarget.Sessions));

    public static SqlFragment Compile(string filter, FilterTarget target)
    {
        var node = FilterParser.Parse(filter, target) ?? throw new ArgumentException("Empty filter.", nameof(filter));
        return target switch
        {
            FilterTarget.Runs => SqliteFilterCompiler.CompileRuns(node, Now),
            FilterTarget.Events => SqliteFilterCompiler.CompileEvents(node, Now),
            _ => SqliteFilterCompiler.CompileSessions(node, Now),
        };
    }

    public long Scalar(string sql)
    {
        using var command = Connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public void Dispose()
    {
        Connection.Dispose();
        File.Delete(_path);
    }

    private List<string> Select(string template, SqlFragment fragment)
    {
        using var command = Connection.CreateCommand();
        command.CommandText = string.Format(System.Globalization.CultureInfo.InvariantCulture, template, fragment.Sql);
        foreach (var (name, value) in fragment.Parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        var names = new List<string>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    private void Execute(string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        command.ExecuteNonQuery();
    }

    private void Seed()
    {
        var h = TimeSpan.FromHours(1);
        Run(1, Summarize, "summarize", "llm", "failed", Now - (2 * h), TimeSpan.FromSeconds(45), "gpt-4o-mini", "openai",
            cost: 5_000_000, input: 1200, output: 800, total: 2000, cached: 100,
            metadata: """{"repository":"acme/web","attempt":3,"flag":true}""", tags: """["nightly","eval"]""",
            errorType: "RateLimitError", errorMessage: "rate limit exceeded", user: "alice", source: "api", session: "s1",
            parent: null, pinned: 0, body: "The customer asked about our refund policy");
        Run(2, Chat, "chat", "llm", "succeeded", Now - (30 * h), TimeSpan.FromSeconds(5), "claude-sonnet-4", "anthropic",
            cost: 20_000_000, input: 100, output: 300, total: 400, cached: null,
            metadata: """{"repository":"acme/api","attempt":"1"}""", tags: """["nightly"]""",
            errorType: null, errorMessage: null, user: "bob", source: "sdk", session: "s1",
            parent: Summarize, pinned: 1, body: "shipping times to Canada");
        Run(3, Search, "search", "tool", "failed", Now - h, TimeSpan.FromMilliseconds(250), null, null,
            cost: null, input: null, output: null, total: 0, cached: null,
            metadata: null, tags: null,
            errorType: "TimeoutError", errorMessage: "tool timed out after 30s", user: null, source: "api", session: null,
            parent: null, pinned: 0, body: "refund policy lookup");
        Run(4, Plan, "plan", "agent", "timeout", new DateTimeOffset(2026, 10, 31, 23, 0, 0, TimeSpan.Zero), TimeSpan.FromHours(2), "gpt-4o", "openai",
            cost: 1_000_000, input: 300, output: 600, total: 900, cached: null,
            metadata: """{"repository":"o'brien\"; DROP TABLE runs; --","attempt":10}""", tags: """["a[1]?*"]""",
            errorType: null, errorMessage: null, user: null, source: "otlp", session: null,
            parent: null, pinned: 0, body: "plan the weekly digest");
        Run(5, Classify, "classify", "llm", "succeeded", new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), TimeSpan.FromSeconds(31), "GPT-4o", "openai",
            cost: 9_000_000, input: 199, output: 501, total: 700, cached: null,
            metadata: """{"repository":"acme/web"}""", tags: """["eval"]""",
            errorType: null, errorMessage: null, user: null, source: "sdk", session: null,
            parent: null, pinned: 0, body: "classify ticket sentiment");

        Event("e1", "run.started", Now - TimeSpan.FromHours(2), "s1", Summarize, null, """{"note":"Refund requested"}""");
        Event("e2", "run.failed", Now - TimeSpan.FromHours(1), "s1", Summarize, null, """{"error":"rate limit"}""");
        Event("e3", "intervention_request", Now - TimeSpan.FromHours(30), null, null, "approval", null);

        Session("s1", "nightly batch", "completed", Now - TimeSpan.FromHours(30), Now - TimeSpan.FromHours(20), 2_500_000_000, 120, 3, """{"persona":"buyer"}""");
        Session("s2", "Playground", "active", Now - TimeSpan.FromHours(1), null, 0, 2, 0, null);
    }

    private void Run(
        long seq, Guid id, string name, string kind, string status, DateTimeOffset started, TimeSpan duration, string? model, string? provider,
        long? cost, long? input, long? output, long total, long? cached, string? metadata, string? tags, string? errorType, string? errorMessage,
        string? user, string source, string? session, Guid? parent, int pinned, string body)
    {
        Execute(
            """
            INSERT INTO runs (seq, project_id, id, session_id, parent_id, kind, name, status, started_at, ended_at, duration_us,
                model, provider, error_type, error_message, input_tokens, output_tokens, cached_tokens, total_tokens, cost_nanos,
                tags, metadata, user_id, source, pinned, created_at, updated_at)
            VALUES (@seq, 1, @id, @session, @parent, @kind, @name, @status, @started, @ended, @duration,
                @model, @provider, @errorType, @errorMessage, @input, @output, @cached, @total, @cost,
                @tags, @metadata, @user, @source, @pinned, @started, @started)
            """,
            ("@seq", seq), ("@id", id.ToByteArray(bigEndian: true)), ("@session", session), ("@parent", parent?.ToByteArray(bigEndian: true)),
            ("@kind", kind), ("@name", name), ("@status", status), ("@started", Micros(started)), ("@ended", Micros(started + duration)),
            ("@duration", duration.Ticks / 10), ("@model", model), ("@provider", provider), ("@errorType", errorType), ("@errorMessage", errorMessage),
            ("@input", input), ("@output", output), ("@cached", cached), ("@total", total), ("@cost", cost), ("@tags", tags), ("@metadata", metadata),
            ("@user", user), ("@source", source), ("@pinned", pinned));
        Execute("INSERT INTO runs_fts (rowid, body) VALUES (@seq, @body)", ("@seq", seq), ("@body", body));
    }

    private void Event(string key, string type, DateTimeOffset time, string? session, Guid? run, string? name, string? data) =>
        Execute(
            "INSERT INTO events (project_id, type, time, session_id, run_id, name, data, idempotency_key) VALUES (1, @type, @time, @session, @run, @name, @data, @key)",
            ("@type", type), ("@time", Micros(time)), ("@session", session), ("@run", run?.ToByteArray(bigEndian: true)), ("@name", name), ("@data", data), ("@key", key));

    private void Session(string id, string name, string state, DateTimeOffset started, DateTimeOffset? ended, long cost, long runs, long failed, string? metadata) =>
        Execute(
            """
            INSERT INTO sessions (project_id, id, name, started_at, ended_at, state, metadata, run_count, failed_count, cost_nanos, created_at, updated_at)
            VALUES (1, @id, @name, @started, @ended, @state, @metadata, @runs, @failed, @cost, @started, @started)
            """,
            ("@id", id), ("@name", name), ("@started", Micros(started)), ("@ended", ended is null ? null : Micros(ended.Value)), ("@state", state),
            ("@metadata", metadata), ("@runs", runs), ("@failed", failed), ("@cost", cost));
}
