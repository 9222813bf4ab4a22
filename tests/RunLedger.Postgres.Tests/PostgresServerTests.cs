using Npgsql;

namespace RunLedger.Postgres.Tests;

public sealed class PostgresServerTests(PostgresFixture fixture)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CreateDatabase_GivesAFreshEmptyDatabaseWithTheContribExtensions()
    {
        var first = await fixture.Server.CreateDatabaseAsync(Cancel);
        var second = await fixture.Server.CreateDatabaseAsync(Cancel);
        first.ShouldNotBe(second);

        await using var connection = new NpgsqlConnection(fixture.Server.ConnectionString(first));
        await connection.OpenAsync(Cancel);
        await using var command = new NpgsqlCommand(
            "SELECT current_database(), (SELECT count(*) FROM pg_tables WHERE schemaname = 'public'), (SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_trgm')",
            connection);
        await using var reader = await command.ExecuteReaderAsync(Cancel);
        (await reader.ReadAsync(Cancel)).ShouldBeTrue();
        reader.GetString(0).ShouldBe(first);
        reader.GetInt64(1).ShouldBe(0);
        reader.GetInt64(2).ShouldBe(1, "pg_trgm comes with postgresql-contrib");
    }

    [Fact]
    public async Task StopAndStartAgain_RefusesConnectionsWhileDownAndKeepsCommittedData()
    {
        if (fixture.Server.IsExternal)
        {
            await Should.ThrowAsync<InvalidOperationException>(() => fixture.Server.StopAsync(cancellationToken: Cancel));
            return;
        }

        // A server of its own, so the shared one stays up for the other tests.
        await using var server = await Testing.PostgresServer.StartAsync(Cancel);
        var database = await server.CreateDatabaseAsync(Cancel);
        var connectionString = server.ConnectionString(database);
        await ExecuteAsync(connectionString, "CREATE TABLE kept (id int); INSERT INTO kept VALUES (42);");

        await server.StopAsync(immediate: true, Cancel);
        await Should.ThrowAsync<NpgsqlException>(() => ExecuteAsync(connectionString + ";Pooling=false", "SELECT 1"));

        await server.StartAgainAsync(Cancel);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Cancel);
        await using var command = new NpgsqlCommand("SELECT id FROM kept", connection);
        (await command.ExecuteScalarAsync(Cancel)).ShouldBe(42);
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Cancel);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Cancel);
    }
}
