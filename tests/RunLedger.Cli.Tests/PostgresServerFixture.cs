using RunLedger.Postgres.Testing;

namespace RunLedger.Cli.Tests;

/// <summary>A throwaway PostgreSQL server for the CLI tests that move ledgers to and from PostgreSQL.</summary>
public sealed class PostgresServerFixture : IAsyncLifetime
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
}
