using RunLedger.Postgres.Testing;

namespace RunLedger.Cli.Tests;

/// <summary>A throwaway PostgreSQL server for one test class; each test takes a fresh database from it.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private PostgresServer? _server;

    public PostgresServer Server => _server ?? throw new InvalidOperationException("The PostgreSQL server has not started.");

    public async ValueTask InitializeAsync() => _server = await PostgresServer.StartAsync(TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>A fresh database on the server, as a <c>--store</c> value.</summary>
    public async Task<string> NewStoreAsync() => Server.ConnectionString(await Server.CreateDatabaseAsync(TestContext.Current.CancellationToken));
}
