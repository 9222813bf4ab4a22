using Microsoft.Data.Sqlite;
using RunLedger.Core.Ingest;
using RunLedger.Core.Payloads;

namespace RunLedger.Sqlite.Tests.Store;

/// <summary>A <see cref="SqliteLedgerStore"/> on a real file in a temp directory.</summary>
internal sealed class StoreFixture : IAsyncDisposable
{
    public static readonly DateTimeOffset Day = new(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);

    private StoreFixture(string directory, SqliteLedgerStore store)
    {
        Directory = directory;
        Store = store;
    }

    public string Directory { get; }

    public string DatabasePath => Path.Combine(Directory, "runledger.db");

    public SqliteLedgerStore Store { get; private set; }

    public static async Task<StoreFixture> OpenAsync(PayloadOptions? payloads = null, string? directory = null, SqliteStoreOptions? options = null)
    {
        directory ??= Path.Combine(Path.GetTempPath(), "runledger-store-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        var store = new SqliteLedgerStore(Path.Combine(directory, "runledger.db"), options ?? new SqliteStoreOptions(), payloads ?? new PayloadOptions(), TimeProvider.System);
        await store.InitializeAsync(CancellationToken.None);
        return new StoreFixture(directory, store);
    }

    public async Task<WriteOutcome> WriteAsync(long projectId, IReadOnlyList<RunWrite>? runs = null, IReadOnlyList<EventWrite>? events = null, IReadOnlyList<SessionWrite>? sessions = null)
    {
        var batch = new WriteBatch
        {
            ProjectId = projectId,
            Source = "test",
            ReceivedAt = Day.AddHours(12),
            Runs = runs ?? [],
            Events = events ?? [],
            Sessions = sessions ?? [],
        };
        var results = await Store.Writer.WriteAsync([batch], CancellationToken.None);
        results[0].Error.ShouldBeNull();
        return results[0].Outcome!;
    }

    /// <summary>The full-text index file beside the ledger.</summary>
    public string IndexPath => DatabasePath + ".fts";

    /// <summary>One value read from the ledger, with its index file attached as <c>fts</c>.</summary>
    public long Scalar(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={DatabasePath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using (var attach = connection.CreateCommand())
        {
            attach.CommandText = "ATTACH DATABASE @path AS fts;";
            attach.Parameters.AddWithValue("@path", IndexPath);
            attach.ExecuteNonQuery();
        }

        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task ReopenAsync(SqliteStoreOptions? options = null)
    {
        await Store.DisposeAsync();
        Store = new SqliteLedgerStore(DatabasePath, options ?? new SqliteStoreOptions(), new PayloadOptions(), TimeProvider.System);
        await Store.InitializeAsync(CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
