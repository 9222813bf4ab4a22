using Npgsql;
using RunLedger.Conformance;
using RunLedger.Core.Payloads;
using RunLedger.Core.Storage;
using RunLedger.Postgres.Testing;

namespace RunLedger.Postgres.Tests.Conformance;

/// <summary>A fresh database on the shared test server; every store opened on it is a separate instance (its own pool).</summary>
internal sealed class PostgresConformanceDatabase : IConformanceDatabase
{
    private readonly string _connectionString;

    private PostgresConformanceDatabase(string connectionString) => _connectionString = connectionString;

    public static async Task<IConformanceDatabase> CreateAsync(PostgresServer server, CancellationToken cancellationToken) =>
        new PostgresConformanceDatabase(server.ConnectionString(await server.CreateDatabaseAsync(cancellationToken)));

    public async Task<ILedgerStore> OpenStoreAsync(PayloadOptions payloads, TimeProvider time, CancellationToken cancellationToken)
    {
        var store = new PostgresLedgerStore(_connectionString, new PostgresStoreOptions(), payloads, time);
        try
        {
            await store.InitializeAsync(cancellationToken);
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }

        return store;
    }

    public async Task ExecuteSqlAsync(string sql, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    // The server drops the test databases when it is disposed at the end of the run.
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
