using RunLedger.Postgres.Testing;

[assembly: AssemblyFixture(typeof(RunLedger.Postgres.Tests.PostgresFixture))]

namespace RunLedger.Postgres.Tests;

/// <summary>One PostgreSQL server shared by every test in the assembly; each test class takes fresh databases from it.</summary>
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
}
