using System.Text.Json;
using RunLedger.Core;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Payloads;
using RunLedger.Core.Query;
using RunLedger.Core.Storage;
using RunLedger.Core.Workload;
using RunLedger.Sqlite;

namespace RunLedger.Postgres.Tests.Store;

/// <summary>
/// The same workload written to a SQLite store and a PostgreSQL store: every filter-language
/// feature and every stats shape must give the same answer on both.
/// </summary>
public sealed class ParityTests(ParityStores stores) : IClassFixture<ParityStores>
{
    private SqliteLedgerStore Sqlite => stores.Sqlite;

    private PgStore Pg => stores.Postgres;

    private long SqliteProject => stores.SqliteProject;

    private long PgProject => stores.PostgresProject;

    private static DateTimeOffset Now => ParityStores.Now;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;


    public static TheoryData<string> RunFilters =>
    [
        "status:failed", "-status:succeeded", "status!=succeeded", "kind:llm", "kind:llm OR kind:tool", "(kind:llm OR kind:tool) status:failed",
        "model:gpt-4o*", "model:*mini*", "-model:gpt-4o", "model:*", "-model:*", "name:*", "name:*review*", "provider:openai",
        "cost<0.01", "cost>=0.001", "-cost<0.01", "cost>0.0000001", "output_tokens>500", "tokens>=1000", "input_tokens<=200", "cached_tokens>0", "reasoning_tokens>0",
        "duration>5s", "duration<=250ms", "-duration>1s", "started>=2026-11-21T23:00", "started<2026-11-22T01:30:00Z", "ended<2026-11-22", "started>-12h", "ended>-24h",
        "is:root", "-is:root", "is:error", "is:pinned", "pinned:false", "pinned:true", "tag:nightly", "tag:eval", "-tag:retry", "tag:*e*", "tags:prod",
        "metadata.persona:*", "metadata.repository:*web*", "-metadata.persona:*", "metadata.trigger:cron", "metadata.attempt>2", "metadata.attempt<=2", "-metadata.attempt>2",
        "metadata.attempt:3", "metadata.flag:true", "metadata.flag:false", "metadata.note:null", "metadata.ticket:\"1234\"", "metadata.ticket:1234", "metadata.a.b:x",
        "source:test", "session:*", "-session:*", "error:*timeout*", "error_type:*", "error:*", "user:*",
        "refund", "\"refund policy\"", "policy refund", "\"policy refund\"", "REFUND", "invoices tax", "cafe", "Café", "münchen", "p95", "4", "4.2", "gpt-4o", "\"off-by-one\"", "*", "日本語",
        "status:failed OR \"refund policy\"", "-(kind:tool cost<0.001)", "NOT status:running",
    ];

    [Theory]
    [MemberData(nameof(RunFilters))]
    public async Task RunFilter_GivesTheSameRunsOnBothStores(string filter)
    {
        var parsed = FilterParser.Parse(filter, FilterTarget.Runs);
        var expected = await AllRunIdsAsync(Sqlite, SqliteProject, parsed);
        var actual = await AllRunIdsAsync(Pg.Store, PgProject, parsed);
        actual.ShouldBe(expected, filter);
    }

    [Theory]
    [InlineData("cafe", 3)]
    [InlineData("münchen", 1)]
    [InlineData("日本語のテキスト", 1)]
    [InlineData("\"off by one\" tag:extra", 1)]
    [InlineData("metadata.attempt>2", 2)]
    [InlineData("metadata.flag:true", 2)]
    [InlineData("metadata.ticket:\"1234\"", 1)]
    [InlineData("tag:extra error:*imeout*", 2)]
    public async Task RunFilter_FindsTheRunsItShould(string filter, int count)
    {
        var parsed = FilterParser.Parse(filter, FilterTarget.Runs);
        (await AllRunIdsAsync(Pg.Store, PgProject, parsed)).Count.ShouldBe(count, filter);
        (await AllRunIdsAsync(Sqlite, SqliteProject, parsed)).Count.ShouldBe(count, filter);
    }

    [Theory]
    [InlineData("type:run.*")]
    [InlineData("type:session.started OR type:run.failed")]
    [InlineData("-type:run.*")]
    [InlineData("session:*")]
    [InlineData("time>=2026-11-22T00:00")]
    [InlineData("id>100")]
    [InlineData("name:*")]
    [InlineData("failed")]
    [InlineData("\"STATUS\"")]
    [InlineData("50%")]
    public async Task EventFilter_GivesTheSameEventsOnBothStores(string filter)
    {
        var parsed = FilterParser.Parse(filter, FilterTarget.Events);
        var expected = await Sqlite.Reader.ReadEventsAsync(SqliteProject, 0, parsed, 100_000, Cancel);
        var actual = await Pg.Store.Reader.ReadEventsAsync(PgProject, 0, parsed, 100_000, Cancel);
        actual.Select(e => (e.Type, e.Time, e.RunId, e.SessionId, e.Data?.Text)).ShouldBe(expected.Select(e => (e.Type, e.Time, e.RunId, e.SessionId, e.Data?.Text)), filter);
    }

    [Theory]
    [InlineData("state:active")]
    [InlineData("-state:active")]
    [InlineData("runs>100")]
    [InlineData("failed>0")]
    [InlineData("cost>0.01")]
    [InlineData("metadata.trigger:cron")]
    [InlineData("metadata.repository:*")]
    [InlineData("name:*")]
    [InlineData("nightly")]
    [InlineData("started>=2026-11-22")]
    public async Task SessionFilter_GivesTheSameSessionsOnBothStores(string filter)
    {
        var parsed = FilterParser.Parse(filter, FilterTarget.Sessions);
        var expected = await Sqlite.Reader.QuerySessionsAsync(SqliteProject, new SessionQuery(parsed, 1000, null), Cancel);
        var actual = await Pg.Store.Reader.QuerySessionsAsync(PgProject, new SessionQuery(parsed, 1000, null), Cancel);
        Json(actual.Items.Select(s => s with { CreatedAt = default, UpdatedAt = default })).ShouldBe(Json(expected.Items.Select(s => s with { CreatedAt = default, UpdatedAt = default })), filter);
    }

    [Fact]
    public async Task Pages_WalkTheSameRunsInTheSameOrder()
    {
        var expected = await AllRunIdsAsync(Sqlite, SqliteProject, null, pageSize: 37);
        var actual = await AllRunIdsAsync(Pg.Store, PgProject, null, pageSize: 37);
        actual.Count.ShouldBeGreaterThan(600);
        actual.ShouldBe(expected);
    }

    [Fact]
    public async Task Runs_ReadBackIdenticallyWithBodies()
    {
        var expected = await Sqlite.Reader.QueryRunsAsync(SqliteProject, new RunQuery(null, 5000, null, IncludeBodies: true), Cancel);
        var actual = await Pg.Store.Reader.QueryRunsAsync(PgProject, new RunQuery(null, 5000, null, IncludeBodies: true), Cancel);
        Json(actual.Items.Select(r => r with { CreatedAt = default, UpdatedAt = default })).ShouldBe(Json(expected.Items.Select(r => r with { CreatedAt = default, UpdatedAt = default })));
    }

    public static TheoryData<string, string?, string?, bool> StatsCases => new()
    {
        { "model", null, null, false },
        { "status,kind", null, "1h", false },
        { "model", "kind:llm", "1d", true },
        { "name", "status!=succeeded", null, true },
        { "provider", null, null, false },
        { "metadata.persona", null, null, false },
        { "session,user", "cost>0", "30m", false },
        { "model", "model:gpt-4o*", null, false },
    };

    [Theory]
    [MemberData(nameof(StatsCases))]
    public async Task Stats_AreTheSameOnBothStores(string groupBy, string? filter, string? interval, bool comparePrevious)
    {
        foreach (var (from, to) in new[] { (Now.AddDays(-2).Date, Now.AddDays(1).Date), (Now.AddHours(-9).AddMinutes(-7).UtcDateTime, Now.UtcDateTime) })
        {
            var query = new StatsQuery(
                FilterParser.Parse(filter, FilterTarget.Runs),
                groupBy.Split(','),
                interval is null ? null : interval.EndsWith('h') ? TimeSpan.FromHours(1) : interval.EndsWith('d') ? TimeSpan.FromDays(1) : TimeSpan.FromMinutes(30),
                new DateTimeOffset(from, TimeSpan.Zero),
                new DateTimeOffset(to, TimeSpan.Zero),
                comparePrevious);
            var expected = await Sqlite.Reader.GetStatsAsync(SqliteProject, query, Cancel);
            var actual = await Pg.Store.Reader.GetStatsAsync(PgProject, query, Cancel);
            actual.Total.Count.ShouldBeGreaterThanOrEqualTo(0);
            Json(actual).ShouldBe(Json(expected), $"{groupBy} {filter} {interval} from {from:O}");
        }
    }

    private static string Json<T>(T value) => JsonSerializer.Serialize(value, LedgerJson.Options);

    private static async Task<List<Guid>> AllRunIdsAsync(ILedgerStore store, long project, FilterNode? filter, int pageSize = 5000)
    {
        var ids = new List<Guid>();
        string? cursor = null;
        do
        {
            var page = await store.Reader.QueryRunsAsync(project, new RunQuery(filter, pageSize, cursor), Cancel);
            ids.AddRange(page.Items.Select(r => r.Id));
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        return ids;
    }
}

/// <summary>The two stores with the same workload, written once for all parity tests.</summary>
public sealed class ParityStores(PostgresFixture fixture) : IAsyncLifetime
{
    public static readonly DateTimeOffset Now = new(2026, 11, 22, 6, 0, 0, TimeSpan.Zero);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "runledger-parity-" + Guid.NewGuid().ToString("N"));
    private SqliteLedgerStore? _sqlite;
    private PgStore? _postgres;
    private long _sqliteProject;
    private long _postgresProject;

    public SqliteLedgerStore Sqlite => _sqlite!;

    public PgStore Postgres => _postgres!;

    public long SqliteProject => _sqliteProject;

    public long PostgresProject => _postgresProject;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        var time = new FixedTime(Now);
        Directory.CreateDirectory(_directory);
        _sqlite = new SqliteLedgerStore(Path.Combine(_directory, "ledger.db"), new SqliteStoreOptions(), new PayloadOptions(), time);
        await _sqlite.InitializeAsync(Cancel);
        _postgres = await PgStore.OpenAsync(fixture.Server, time: time);
        _sqliteProject = (await _sqlite!.Admin.GetOrCreateProjectAsync("p", Cancel)).Id;
        _postgresProject = (await _postgres!.Store.Admin.GetOrCreateProjectAsync("p", Cancel)).Id;

        var validator = new IngestValidator(new IngestOptions());
        var generator = new WorkloadGenerator(new WorkloadOptions { Seed = 11, Sessions = 5, TargetRuns = 600, FailureRate = 0.1 });
        foreach (var request in generator.Generate(100).Append(Extra()))
        {
            await WriteBothAsync(validator, request);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _sqlite!.DisposeAsync();
        await _postgres!.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }


    private async Task WriteBothAsync(IngestValidator validator, IngestRequest request)
    {
        foreach (var (store, project) in new (ILedgerStore, long)[] { (_sqlite!, _sqliteProject), (_postgres!.Store, _postgresProject) })
        {
            var validated = validator.Validate(request, project, "test", Now.AddHours(-1));
            var results = await store.Writer.WriteAsync([validated.Batch], Cancel);
            results[0].Error.ShouldBeNull();
        }
    }

    /// <summary>Runs with the values the generated workload lacks: numbers and literals in metadata, non-English text, punctuation.</summary>
    private static IngestRequest Extra()
    {
        var start = new DateTimeOffset(2026, 11, 21, 23, 30, 0, TimeSpan.Zero);
        var runs = new[]
        {
            ("{\"attempt\":3,\"flag\":true,\"ticket\":\"1234\"}", "Café au lait in München costs 4.2 euros", null as string),
            ("{\"attempt\":1.5,\"flag\":false,\"ticket\":1234,\"note\":null}", "日本語のテキスト and an off-by-one error", "Request timeout after 30s"),
            ("{\"attempt\":\"3\",\"a.b\":\"x\",\"note\":\"null\"}", "CAFE REFUND: policy—refund? (gpt-4o) 50% off", null),
            ("{\"flag\":\"true\",\"attempt\":12}", "cafe\u0301 with a combining accent; p95 latency", "upstream Timeout"),
        };
        var items = runs.Select((r, i) => new
        {
            id = Guid.CreateVersion7(start.AddMinutes(i)).ToString(),
            kind = "llm",
            name = "extra-" + i,
            model = i % 2 == 0 ? "gpt-4o-mini" : null,
            status = r.Item3 is null ? "succeeded" : "failed",
            startedAt = start.AddMinutes(i),
            endedAt = start.AddMinutes(i).AddSeconds(i * 3),
            input = r.Item2,
            error = r.Item3 is null ? null : new { type = "TimeoutError", message = r.Item3 },
            metadata = JsonDocument.Parse(r.Item1).RootElement,
            tags = new[] { "extra", i % 2 == 0 ? "even" : "odd" },
            costUsd = i == 3 ? (decimal?)null : 0.0001m * i,
        }).ToArray();
        return JsonSerializer.Deserialize<IngestRequest>(JsonSerializer.Serialize(new { runs = items }, LedgerJson.Options), LedgerJson.Options)!;
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
