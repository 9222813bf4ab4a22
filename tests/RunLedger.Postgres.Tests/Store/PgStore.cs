using System.Globalization;
using Npgsql;
using RunLedger.Core.Ingest;
using RunLedger.Core.Payloads;
using RunLedger.Postgres.Testing;

namespace RunLedger.Postgres.Tests.Store;

/// <summary>A <see cref="PostgresLedgerStore"/> on a fresh database of the shared test server.</summary>
public sealed class PgStore : IAsyncDisposable
{
    public static readonly DateTimeOffset Day = new(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);

    private PgStore(string connectionString, PostgresLedgerStore store)
    {
        ConnectionString = connectionString;
        Store = store;
    }

    public string ConnectionString { get; }

    public PostgresLedgerStore Store { get; }

    public static async Task<PgStore> OpenAsync(PostgresServer server, PayloadOptions? payloads = null, TimeProvider? time = null)
    {
        var connectionString = server.ConnectionString(await server.CreateDatabaseAsync(TestContext.Current.CancellationToken));
        var store = Create(connectionString, payloads, time);
        await store.InitializeAsync(TestContext.Current.CancellationToken);
        return new PgStore(connectionString, store);
    }

    public static PostgresLedgerStore Create(string connectionString, PayloadOptions? payloads = null, TimeProvider? time = null) =>
        new(connectionString, new PostgresStoreOptions(), payloads ?? new PayloadOptions(), time ?? TimeProvider.System);

    public Task<WriteOutcome> WriteAsync(long projectId, IReadOnlyList<RunWrite>? runs = null, IReadOnlyList<EventWrite>? events = null, IReadOnlyList<SessionWrite>? sessions = null) =>
        WriteWithAsync(Store, projectId, runs, events, sessions);

    public static async Task<WriteOutcome> WriteWithAsync(PostgresLedgerStore store, long projectId, IReadOnlyList<RunWrite>? runs = null, IReadOnlyList<EventWrite>? events = null, IReadOnlyList<SessionWrite>? sessions = null)
    {
        var results = await store.Writer.WriteAsync([Batch(projectId, runs, events, sessions)], TestContext.Current.CancellationToken);
        results[0].Error.ShouldBeNull();
        return results[0].Outcome!;
    }

    public static WriteBatch Batch(long projectId, IReadOnlyList<RunWrite>? runs = null, IReadOnlyList<EventWrite>? events = null, IReadOnlyList<SessionWrite>? sessions = null) => new()
    {
        ProjectId = projectId,
        Source = "test",
        ReceivedAt = Day.AddHours(12),
        Runs = runs ?? [],
        Events = events ?? [],
        Sessions = sessions ?? [],
    };

    public async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken), CultureInfo.InvariantCulture);
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    public ValueTask DisposeAsync() => Store.DisposeAsync();
}
