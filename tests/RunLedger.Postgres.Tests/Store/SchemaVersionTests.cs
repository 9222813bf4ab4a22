using Microsoft.Extensions.Logging.Abstractions;
using RunLedger.Core.Ingest;
using RunLedger.Core.Payloads;
using RunLedger.Core.Storage;

namespace RunLedger.Postgres.Tests.Store;

/// <summary>
/// Two replicas on one ledger, one of an older build (a store that knows one schema version
/// less): once the newer one migrates, the older one stops writing with an error that says to
/// upgrade it, and stores nothing; the newer one writes on.
/// </summary>
public sealed class SchemaVersionTests(PostgresFixture fixture)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Writer_OlderThanTheLedgerAfterAnotherReplicaMigrates_RefusesAndStoresNothing()
    {
        var connectionString = fixture.Server.ConnectionString(await fixture.Server.CreateDatabaseAsync(Cancel));
        await using var older = Older(connectionString);
        await older.InitializeAsync(Cancel);
        var project = await older.Admin.GetOrCreateProjectAsync("p", Cancel);
        await PgStore.WriteWithAsync(older, project.Id, [new RunWrite { Id = Guid.CreateVersion7(), StartedAt = PgStore.Day }]);

        await using var newer = PgStore.Create(connectionString);
        await newer.InitializeAsync(Cancel);

        var refused = await Should.ThrowAsync<SchemaTooNewException>(() => older.Writer.WriteAsync(
            [PgStore.Batch(project.Id, [new RunWrite { Id = Guid.CreateVersion7(), StartedAt = PgStore.Day }], [new EventWrite { Type = "custom", Time = PgStore.Day }])],
            Cancel));
        refused.DatabaseVersion.ShouldBe(PostgresMigrator.LatestVersion);
        refused.KnownVersion.ShouldBe(PostgresMigrator.LatestVersion - 1);
        refused.Message.ShouldContain("Upgrade this replica");
        (await Should.ThrowAsync<SchemaTooNewException>(() => older.Reader.PingAsync(Cancel))).KnownVersion.ShouldBe(PostgresMigrator.LatestVersion - 1);
        (await newer.Reader.PingAsync(Cancel)).ShouldBeTrue();

        (await ScalarAsync(connectionString, "SELECT count(*) FROM runs")).ShouldBe(1);
        (await ScalarAsync(connectionString, "SELECT count(*) FROM events WHERE type = 'custom'")).ShouldBe(0);

        await PgStore.WriteWithAsync(newer, project.Id, [new RunWrite { Id = Guid.CreateVersion7(), StartedAt = PgStore.Day }]);
        (await ScalarAsync(connectionString, "SELECT count(*) FROM runs")).ShouldBe(2);
    }

    [Fact]
    public async Task Pipeline_OnAnOlderReplica_AnswersUnavailableWithTheUpgradeMessage()
    {
        var connectionString = fixture.Server.ConnectionString(await fixture.Server.CreateDatabaseAsync(Cancel));
        await using var older = Older(connectionString);
        await older.InitializeAsync(Cancel);
        var project = await older.Admin.GetOrCreateProjectAsync("p", Cancel);

        // What a newer build's migration leaves behind: a version this one does not know.
        await ExecuteAsync(connectionString, $"INSERT INTO schema_version (version, name) VALUES ({PostgresMigrator.LatestVersion}, 'next.sql')");

        var ingest = new IngestOptions();
        await using var pipeline = new IngestPipeline(older.Writer, ingest, new LedgerChangeNotifier(), NullLogger<IngestPipeline>.Instance);
        pipeline.Start();
        var refused = await Should.ThrowAsync<IngestUnavailableException>(() => pipeline.SubmitAsync(
            PgStore.Batch(project.Id, [new RunWrite { Id = Guid.CreateVersion7(), StartedAt = PgStore.Day }]), Cancel));
        refused.Message.ShouldContain("Upgrade this replica");
        SchemaTooNewException.Find(refused).ShouldNotBeNull();
        (await ScalarAsync(connectionString, "SELECT count(*) FROM runs")).ShouldBe(0);
    }

    [Fact]
    public async Task Writer_WaitingForTheLockWhileAMigrationCommits_SeesTheNewVersion()
    {
        var connectionString = fixture.Server.ConnectionString(await fixture.Server.CreateDatabaseAsync(Cancel));
        await using var older = Older(connectionString);
        await older.InitializeAsync(Cancel);
        var project = await older.Admin.GetOrCreateProjectAsync("p", Cancel);

        // A migration in progress, as the migrator runs one: the writers' lock first, then the
        // schema change and its version row, committed while the writer below waits.
        await using var migration = new Npgsql.NpgsqlConnection(connectionString);
        await migration.OpenAsync(Cancel);
        await using var transaction = await migration.BeginTransactionAsync(Cancel);
        await using (var command = new Npgsql.NpgsqlCommand($"SELECT pg_advisory_xact_lock({PostgresWriter.EventOrderLockKey})", migration, transaction))
        {
            await command.ExecuteNonQueryAsync(Cancel);
        }

        var write = older.Writer.WriteAsync([PgStore.Batch(project.Id, [new RunWrite { Id = Guid.CreateVersion7(), StartedAt = PgStore.Day }])], Cancel);
        await WaitUntilWaitingForTheLockAsync(connectionString);
        write.IsCompleted.ShouldBeFalse();
        await using (var command = new Npgsql.NpgsqlCommand($"INSERT INTO schema_version (version, name) VALUES ({PostgresMigrator.LatestVersion}, 'next.sql')", migration, transaction))
        {
            await command.ExecuteNonQueryAsync(Cancel);
        }

        await transaction.CommitAsync(Cancel);

        await Should.ThrowAsync<SchemaTooNewException>(() => write);
        (await ScalarAsync(connectionString, "SELECT count(*) FROM runs")).ShouldBe(0);
    }

    /// <summary>Waits until some session of the database waits for an advisory lock.</summary>
    private static async Task WaitUntilWaitingForTheLockAsync(string connectionString)
    {
        for (var i = 0; i < 200; i++)
        {
            if (await ScalarAsync(connectionString, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())") > 0)
            {
                return;
            }

            await Task.Delay(50, Cancel);
        }

        throw new TimeoutException("The writer never waited for the writers' lock.");
    }

    private static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync(Cancel);
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync(Cancel))!;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync(Cancel);
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Cancel);
    }

    private static PostgresLedgerStore Older(string connectionString) =>
        new(connectionString, new PostgresStoreOptions(), new PayloadOptions(), TimeProvider.System) { KnownSchemaVersion = PostgresMigrator.LatestVersion - 1 };
}
