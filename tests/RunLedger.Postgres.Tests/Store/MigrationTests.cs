namespace RunLedger.Postgres.Tests.Store;

public sealed class MigrationTests(PostgresFixture fixture)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Initialize_FreshDatabase_CreatesPartitionedSchemaAndRecordsTheVersion()
    {
        await using var f = await PgStore.OpenAsync(fixture.Server);

        (await f.ScalarAsync("SELECT max(version) FROM schema_version")).ShouldBe(PostgresMigrator.Migrations[^1].Version);
        (await f.ScalarAsync("SELECT count(*) FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid WHERE c.relname IN ('runs', 'events')")).ShouldBe(2);
        (await f.ScalarAsync("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'")).ShouldBe(1);

        // This month and the three ahead exist for both tables.
        var month = Partitions.MonthOf(Core.Storage.StorageUnits.ToMicros(DateTimeOffset.UtcNow));
        foreach (var table in Partitions.Tables)
        {
            for (var m = month; m <= month + 3; m++)
            {
                (await f.ScalarAsync($"SELECT count(*) FROM pg_class WHERE relname = '{Partitions.Name(table, m)}'")).ShouldBe(1, Partitions.Name(table, m));
            }
        }
    }

    [Fact]
    public async Task Initialize_Again_AppliesNothingTwiceAndKeepsData()
    {
        await using var f = await PgStore.OpenAsync(fixture.Server);
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", Cancel);

        await using (var second = PgStore.Create(f.ConnectionString))
        {
            await second.InitializeAsync(Cancel);
            (await second.Admin.FindProjectAsync("p", Cancel))!.Id.ShouldBe(project.Id);
        }

        (await f.ScalarAsync("SELECT count(*) FROM schema_version")).ShouldBe(PostgresMigrator.Migrations.Count);
    }

    [Fact]
    public async Task Initialize_TwoStoresAtOnce_BothStartOnOneSchema()
    {
        var database = await fixture.Server.CreateDatabaseAsync(Cancel);
        var connectionString = fixture.Server.ConnectionString(database);
        await using var first = PgStore.Create(connectionString);
        await using var second = PgStore.Create(connectionString);

        await Task.WhenAll(first.InitializeAsync(Cancel), second.InitializeAsync(Cancel));

        var a = await first.Admin.GetOrCreateProjectAsync("shared", Cancel);
        var b = await second.Admin.GetOrCreateProjectAsync("shared", Cancel);
        b.Id.ShouldBe(a.Id);
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync(Cancel);
        await using var command = new Npgsql.NpgsqlCommand("SELECT count(*) FROM schema_version", connection);
        ((long)(await command.ExecuteScalarAsync(Cancel))!).ShouldBe(PostgresMigrator.Migrations.Count);
    }

    [Fact]
    public async Task Initialize_NewerSchema_IsRefusedWithTheVersions()
    {
        await using var f = await PgStore.OpenAsync(fixture.Server);
        await f.ExecuteAsync("INSERT INTO schema_version (version, name) VALUES (999, '0999_future.sql')");

        await using var newer = PgStore.Create(f.ConnectionString);
        var error = await Should.ThrowAsync<InvalidOperationException>(() => newer.InitializeAsync(Cancel));
        error.Message.ShouldContain("schema version 999");
        error.Message.ShouldContain("Upgrade RunLedger");
    }
}
