using Microsoft.Data.Sqlite;
using RunLedger.Conformance;
using RunLedger.Core.Payloads;
using RunLedger.Core.Storage;

namespace RunLedger.Sqlite.Tests.Conformance;

/// <summary>A fresh SQLite file in its own temp directory; every store opened on it is a separate instance.</summary>
internal sealed class SqliteConformanceDatabase : IConformanceDatabase
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "runledger-conformance", Guid.NewGuid().ToString("N"));
    private readonly SqliteStoreOptions _options;

    private SqliteConformanceDatabase(SqliteStoreOptions options)
    {
        _options = options;
    }

    public string DatabasePath => Path.Combine(_directory, "runledger.db");

    /// <summary>A new database whose stores open with <paramref name="options"/> (default: the defaults).</summary>
    public static Task<IConformanceDatabase> CreateAsync(SqliteStoreOptions? options = null)
    {
        var database = new SqliteConformanceDatabase(options ?? new SqliteStoreOptions());
        Directory.CreateDirectory(database._directory);
        return Task.FromResult<IConformanceDatabase>(database);
    }

    public async Task<ILedgerStore> OpenStoreAsync(PayloadOptions payloads, TimeProvider time, CancellationToken cancellationToken)
    {
        var store = new SqliteLedgerStore(DatabasePath, _options, payloads, time);
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
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString());
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public ValueTask DisposeAsync()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }
}
