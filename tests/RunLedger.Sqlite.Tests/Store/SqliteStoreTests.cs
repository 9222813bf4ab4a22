using Microsoft.Data.Sqlite;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Payloads;

namespace RunLedger.Sqlite.Tests.Store;

/// <summary>
/// What only SQLite has: its rows, tables, schema versions and pragmas. Behaviour every store
/// shares is in the conformance suite (<see cref="Conformance.SqliteRunWriteConformance"/> and its siblings).
/// </summary>
public sealed class SqliteStoreTests
{
    private static readonly DateTimeOffset Day = StoreFixture.Day;

    [Fact]
    public async Task Write_RunUpdatedToFailed_KeepsOneRowAndMovesItsRollupRows()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var id = Guid.CreateVersion7();
        await f.WriteAsync(project.Id, [new RunWrite { Id = id, Kind = RunKind.Llm, Name = "plan", Model = "gpt-4o", StartedAt = Day.AddHours(1) }]);
        await f.WriteAsync(project.Id, [new RunWrite { Id = id, Status = RunStatus.Failed, EndedAt = Day.AddHours(1).AddSeconds(3) }]);

        f.Scalar("SELECT count(*) FROM runs").ShouldBe(1);

        // The rollups moved the run from 'running' to 'failed': one row per bucket size, none left for 'running'.
        f.Scalar("SELECT count(*) FROM rollups WHERE status = 'running'").ShouldBe(0);
        f.Scalar("SELECT sum(count) FROM rollups WHERE status = 'failed' AND bucket_size = 86400").ShouldBe(1);
        f.Scalar("SELECT count(*) FROM rollups WHERE status = 'failed'").ShouldBe(RunLedger.Core.Rollups.RollupDeltas.BucketSizes.Count);
    }

    [Fact]
    public async Task Rollups_AcrossGroupsClearAndOutsideWrites_MatchARecomputationFromRuns()
    {
        // The writer keeps the rollup rows it wrote in memory and writes later groups from them:
        // after updates, a clear and a change by another connection, the table still has to be
        // what the runs add up to.
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var a = Guid.CreateVersion7();
        var b = Guid.CreateVersion7();
        await f.WriteAsync(project.Id, [Run(a, "plan", RunStatus.Running, 0), Run(b, "plan", RunStatus.Succeeded, 1), Run(Guid.CreateVersion7(), "act", RunStatus.Succeeded, 2)]);
        await f.WriteAsync(project.Id, [Run(a, "plan", RunStatus.Failed, 0), Run(Guid.CreateVersion7(), "plan", RunStatus.Succeeded, 3)]);
        await f.WriteAsync(project.Id, [Run(b, "act", RunStatus.Succeeded, 1)]);
        RollupsAsStored(f).ShouldBe(RollupsFromRuns(f));
        f.Scalar("SELECT sum(count) FROM rollups WHERE bucket_size = 86400").ShouldBe(4);

        await f.Store.Transfer.ClearAsync(default);
        project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        await f.WriteAsync(project.Id, [Run(Guid.CreateVersion7(), "plan", RunStatus.Succeeded, 0)]);
        RollupsAsStored(f).ShouldBe(RollupsFromRuns(f));
        f.Scalar("SELECT sum(count) FROM rollups WHERE bucket_size = 86400").ShouldBe(1);

        // Another connection changes a row the writer has cached; the writer must build on it.
        using (var other = new SqliteConnection($"Data Source={f.DatabasePath};Pooling=False"))
        {
            other.Open();
            using var command = other.CreateCommand();
            command.CommandText = "UPDATE rollups SET count = count + 7 WHERE bucket_size = 86400;";
            command.ExecuteNonQuery().ShouldBe(1);
        }

        await f.WriteAsync(project.Id, [Run(Guid.CreateVersion7(), "plan", RunStatus.Succeeded, 4)]);
        f.Scalar("SELECT sum(count) FROM rollups WHERE bucket_size = 86400").ShouldBe(1 + 7 + 1);

        static RunWrite Run(Guid id, string name, RunStatus status, int minute) => new()
        {
            Id = id,
            Kind = RunKind.Llm,
            Name = name,
            Model = "gpt-4o",
            Status = status,
            StartedAt = Day.AddHours(1).AddMinutes(minute),
            EndedAt = status == RunStatus.Running ? null : Day.AddHours(1).AddMinutes(minute).AddMilliseconds(250 + (100 * minute)),
            Usage = new Usage { InputTokens = 10 + minute, OutputTokens = 5 },
            CostUsd = 0.001m * (minute + 1),
        };
    }

    private static string RollupsAsStored(StoreFixture f) => Text(
        f,
        "SELECT bucket_size || ':' || bucket_start || ':' || kind || ':' || name || ':' || model || ':' || status || ':' || count || ':' || errors || ':' || " +
        "input_tokens || ':' || output_tokens || ':' || cost_nanos || ':' || duration_count || ':' || duration_sum AS k FROM rollups");

    private static string RollupsFromRuns(StoreFixture f) => Text(
        f,
        "SELECT s.size || ':' || (r.started_at - r.started_at % (s.size * 1000000)) || ':' || r.kind || ':' || coalesce(r.name, '') || ':' || " +
        "coalesce(r.model, '') || ':' || r.status || ':' || count(*) || ':' || sum(r.status IN ('failed', 'timeout')) || ':' || sum(coalesce(r.input_tokens, 0)) || ':' || " +
        "sum(coalesce(r.output_tokens, 0)) || ':' || sum(coalesce(r.cost_nanos, 0)) || ':' || count(r.duration_us) || ':' || coalesce(sum(r.duration_us), 0) AS k " +
        "FROM runs r CROSS JOIN (SELECT 300 AS size UNION ALL SELECT 3600 UNION ALL SELECT 86400) s " +
        "GROUP BY s.size, r.started_at - r.started_at % (s.size * 1000000), r.kind, coalesce(r.name, ''), coalesce(r.model, ''), r.status");

    private static string Text(StoreFixture f, string rowsSql)
    {
        using var connection = new SqliteConnection($"Data Source={f.DatabasePath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT coalesce(group_concat(k, char(10)), '') FROM (SELECT k FROM ({rowsSql}) ORDER BY k);";
        return (string)command.ExecuteScalar()!;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Write_ParametersAndMetadata_AreStoredAsTheTextSentWhetherParsedOrMadeFromText(bool parsed)
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        const string parameters = "{ \"temperature\" : 0.20,\n  \"stop\": [\"\\u00e9\", \"caf\u00e9 ✓\"] }";
        const string metadata = "{\"repository\":\"acme/web\",  \"note\":\"\\\"quoted\\\" 😀\"}";
        RawJson Json(string text) => parsed ? System.Text.Json.JsonSerializer.Deserialize<RawJson>(text)! : new RawJson(text);
        var inserted = Guid.CreateVersion7();
        var updated = Guid.CreateVersion7();
        await f.WriteAsync(project.Id, [
            new RunWrite { Id = inserted, StartedAt = Day, Parameters = Json(parameters), Metadata = Json(metadata) },
            new RunWrite { Id = updated, StartedAt = Day }]);
        await f.WriteAsync(project.Id, [new RunWrite { Id = updated, Parameters = Json(parameters), Metadata = Json(metadata) }]);

        foreach (var id in new[] { inserted, updated })
        {
            var detail = await f.Store.Reader.GetRunAsync(project.Id, id, default);
            detail.ShouldNotBeNull().Run.Parameters.ShouldNotBeNull().Text.ShouldBe(parameters);
            detail.Run.Metadata.ShouldNotBeNull().Text.ShouldBe(metadata);
        }

        // Stored as text, byte for byte the UTF-8 of what was sent; the metadata once, for both runs.
        f.Scalar("SELECT count(*) FROM runs r JOIN run_metadata m ON m.key = r.metadata_key JOIN run_parameters p ON p.key = r.parameters_key WHERE typeof(p.json) = 'text' AND typeof(m.json) = 'text'").ShouldBe(2);
        f.Scalar("SELECT count(*) FROM run_metadata").ShouldBe(1);
        f.Scalar("SELECT count(*) FROM run_parameters").ShouldBe(1);
        f.Scalar($"SELECT count(*) FROM run_parameters WHERE runs = 2 AND hex(json) = '{Convert.ToHexString(System.Text.Encoding.UTF8.GetBytes(parameters))}'").ShouldBe(1);
        f.Scalar($"SELECT count(*) FROM run_metadata WHERE runs = 2 AND hex(json) = '{Convert.ToHexString(System.Text.Encoding.UTF8.GetBytes(metadata))}'").ShouldBe(1);
    }

    [Fact]
    public async Task Payloads_IdenticalBodies_AreStoredOnceUnlessDedupeIsOff()
    {
        var body = RawJson.FromString(string.Concat(Enumerable.Repeat("You are a careful assistant. ", 100)));
        await using (var f = await StoreFixture.OpenAsync())
        {
            var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
            await f.WriteAsync(project.Id, [new RunWrite { Id = Guid.CreateVersion7(), Input = body }, new RunWrite { Id = Guid.CreateVersion7(), Input = body }]);
            f.Scalar("SELECT count(*) FROM payloads").ShouldBe(1);
            f.Scalar("SELECT length(data) FROM payloads").ShouldBeLessThan(f.Scalar("SELECT original_size FROM payloads") / 5);
        }

        await using (var f = await StoreFixture.OpenAsync(new PayloadOptions { Deduplicate = false }))
        {
            var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
            await f.WriteAsync(project.Id, [new RunWrite { Id = Guid.CreateVersion7(), Input = body }, new RunWrite { Id = Guid.CreateVersion7(), Input = body }]);
            f.Scalar("SELECT count(*) FROM payloads").ShouldBe(2);
        }
    }

    [Fact]
    public async Task Initialize_Twice_KeepsDataAndSchemaVersion()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var id = Guid.CreateVersion7();
        await f.WriteAsync(project.Id, [new RunWrite { Id = id, StartedAt = Day }]);
        await f.ReopenAsync();
        (await f.Store.Reader.GetRunAsync(project.Id, id, default)).ShouldNotBeNull();
        f.Scalar("SELECT count(*) FROM schema_version").ShouldBe(SqliteMigrator.Migrations.Count);
        f.Scalar("SELECT count(*) FROM pragma_journal_mode() WHERE journal_mode = 'wal'").ShouldBe(1);
    }

    [Fact]
    public async Task Initialize_NewerSchema_FailsWithAClearMessage()
    {
        await using var f = await StoreFixture.OpenAsync();
        await f.Store.DisposeAsync();
        using (var connection = new SqliteConnection($"Data Source={f.DatabasePath};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO schema_version (version, name, applied_at) VALUES (999, 'future', 'x');";
            command.ExecuteNonQuery();
        }

        var store = new SqliteLedgerStore(f.DatabasePath, new SqliteStoreOptions(), new PayloadOptions(), TimeProvider.System);
        var error = await Should.ThrowAsync<InvalidOperationException>(() => store.InitializeAsync(default));
        error.Message.ShouldContain("newer");
        await store.DisposeAsync();
    }
}
