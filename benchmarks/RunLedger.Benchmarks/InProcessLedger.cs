using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using RunLedger.Core.Ingest;
using RunLedger.Core.Payloads;
using RunLedger.Core.Storage;
using RunLedger.Postgres;
using RunLedger.Sqlite;

namespace RunLedger.Benchmarks;

/// <summary>
/// RunLedger's store and ingest pipeline wired as the server wires them, without HTTP: a store
/// (<see cref="SqliteLedgerStore"/>, WAL and synchronous=FULL by default, or <see cref="PostgresLedgerStore"/>)
/// behind one <see cref="IngestPipeline"/>.
/// </summary>
internal sealed class InProcessLedger : IAsyncDisposable
{
    private readonly ILedgerStore _store;
    private readonly IngestPipeline _pipeline;
    private readonly IngestValidator _validator;
    private long _projectId;

    private InProcessLedger(ILedgerStore store, string? databasePath)
    {
        var ingest = new IngestOptions();
        DatabasePath = databasePath;
        _store = store;
        _pipeline = new IngestPipeline(_store.Writer, ingest, new LedgerChangeNotifier(), NullLogger<IngestPipeline>.Instance);
        _validator = new IngestValidator(ingest);
    }

    /// <summary>The SQLite file (null on PostgreSQL).</summary>
    public string? DatabasePath { get; }

    /// <summary>The store's read side, for the query scenario.</summary>
    public Core.Storage.ILedgerReader Reader => _store.Reader;

    /// <summary>The id of the project everything is written to.</summary>
    public long ProjectId => _projectId;

    /// <summary>The SQLite ledger in <paramref name="directory"/> (created when missing).</summary>
    public static Task<InProcessLedger> OpenAsync(string directory, PayloadOptions payloads, CancellationToken cancellationToken, SqliteStoreOptions? options = null)
    {
        var path = Path.Combine(directory, "runledger.db");
        return StartAsync(new InProcessLedger(new SqliteLedgerStore(path, options ?? new SqliteStoreOptions(), payloads, TimeProvider.System), path), cancellationToken);
    }

    /// <summary>A ledger on the (empty) PostgreSQL database named by <paramref name="connectionString"/>.</summary>
    /// <param name="schemaVersion">Migrate only this far (the schema of an older build); null for the newest.</param>
    public static Task<InProcessLedger> OpenPostgresAsync(string connectionString, PayloadOptions payloads, CancellationToken cancellationToken, int? schemaVersion = null) =>
        StartAsync(
            new InProcessLedger(
                new PostgresLedgerStore(connectionString, new PostgresStoreOptions(), payloads, TimeProvider.System) { KnownSchemaVersion = schemaVersion ?? PostgresMigrator.LatestVersion },
                null),
            cancellationToken);

    private static async Task<InProcessLedger> StartAsync(InProcessLedger ledger, CancellationToken cancellationToken)
    {
        await ledger._store.InitializeAsync(cancellationToken).ConfigureAwait(false);
        ledger._projectId = (await ledger._store.Admin.GetOrCreateProjectAsync("default", cancellationToken).ConfigureAwait(false)).Id;
        ledger._pipeline.Start();
        return ledger;
    }

    /// <summary>
    /// Waits until the SQLite full-text index covers every run (it is built in the background: a
    /// cached ledger whose index file is missing or of another layout is rebuilt on open) and
    /// returns how long that took; zero when it already did, or on PostgreSQL.
    /// </summary>
    public async Task<TimeSpan> WaitUntilIndexedAsync(CancellationToken cancellationToken)
    {
        if (_store is not IFullTextIndexStatus index)
        {
            return TimeSpan.Zero;
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (await index.CountUnindexedRunsAsync(cancellationToken).ConfigureAwait(false) > 0)
        {
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }

        return clock.Elapsed;
    }

    /// <summary>Validates and submits one request the way the HTTP endpoint does; returns the items written.</summary>
    public async Task<int> SubmitAsync(IngestRequest request, CancellationToken cancellationToken)
    {
        var validated = _validator.Validate(request, _projectId, "bench", DateTimeOffset.UtcNow);
        if (validated.Rejected.Count > 0)
        {
            throw new InvalidOperationException($"The validator rejected {validated.Rejected.Count} items: {validated.Rejected[0]}");
        }

        var outcome = await _pipeline.SubmitAsync(validated.Batch, cancellationToken).ConfigureAwait(false);
        return outcome.Written;
    }

    /// <summary>
    /// Closes the ledger, checkpoints the WALs into their databases and returns the bytes of both
    /// files the ledger keeps: the ledger and its full-text index (<c>&lt;ledger&gt;.fts</c>), each
    /// database + WAL.
    /// </summary>
    public async Task<long> CloseAndMeasureAsync()
    {
        if (DatabasePath is null)
        {
            throw new InvalidOperationException("Only a SQLite ledger has a file to measure.");
        }

        await DisposeAsync().ConfigureAwait(false);
        return CheckpointAndMeasure(DatabasePath) + CheckpointAndMeasure(SearchIndexPath!);
    }

    /// <summary>The full-text index file beside a SQLite ledger.</summary>
    public string? SearchIndexPath => DatabasePath is null ? null : DatabasePath + ".fts";

    private static long CheckpointAndMeasure(string path)
    {
        if (!File.Exists(path))
        {
            return 0;
        }

        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
        command.ExecuteNonQuery();
        return FileSize(path) + FileSize(path + "-wal");
    }

    private static long FileSize(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;

    private bool _disposed;

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _pipeline.DisposeAsync().ConfigureAwait(false);
        await _store.DisposeAsync().ConfigureAwait(false);
    }
}
