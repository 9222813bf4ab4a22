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
    public async Task Payloads_IdenticalBodies_AreStoredOnceUnlessDedupeIsOff()
    {
        var body = RawJson.FromString(string.Concat(Enumerable.Repeat("You are a careful assistant. ", 100)));
        await using (var f = await StoreFixture.OpenAsync())
        {
            var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
            await f.WriteAsync(project.Id, [new RunWrite { Id = Guid.CreateVersion7(), Input = body }, new RunWrite { Id = Guid.CreateVersion7(), Input = body }]);
            f.Scalar("SELECT count(*) FROM payloads").ShouldBe(1);
            f.Scalar("SELECT stored_size FROM payloads").ShouldBeLessThan(f.Scalar("SELECT original_size FROM payloads") / 5);
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
