using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using RunLedger.Core.Payloads;
using RunLedger.Sqlite.Query;
using RunLedger.Core.Storage;
using RunLedger.Core.Storage.Transfer;

namespace RunLedger.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode, one writer connection (SQLite has one writer
/// at a time anyway) and pooled reader connections. The full-text index is derived data in a
/// second file beside it (<c>&lt;ledger&gt;.fts</c>, see <see cref="SqliteSearchIndex"/>), written
/// by its own connection in parallel with the ledger's commits and attached to every reader.
/// </summary>
public sealed class SqliteLedgerStore : ILedgerStore, ITransferableStore, IFullTextIndexStatus
{
    private readonly string _connectionString;
    private readonly SqliteStoreOptions _options;
    private readonly ILogger? _logger;
    private readonly SqliteConnection _writerConnection;
    private readonly SqliteWriter _writer;
    private readonly SqliteReader _reader;
    private readonly SqliteAdminStore _admin;
    private readonly SqliteTransfer _transfer;
    private readonly PayloadDictionaries _dictionaries;
    private readonly SqliteSearchIndex _searchIndex;
    private bool _initialized;

    public SqliteLedgerStore(string databasePath, SqliteStoreOptions options, PayloadOptions payloadOptions, TimeProvider timeProvider, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(databasePath);
        _options = options;
        _logger = logger;
        DatabasePath = System.IO.Path.GetFullPath(databasePath);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = Math.Max(1, options.BusyTimeoutMs / 1000),
        }.ToString();
        _writerConnection = new SqliteConnection(_connectionString);
        PayloadOptions = payloadOptions;
        MetadataMatches = new SqliteMetadataMatches(timeProvider);
        var connectionString = _connectionString;
        _dictionaries = new PayloadDictionaries(id => SqliteWriter.ReadDictionary(connectionString, id, payloadOptions.DictionaryCompressionLevel));
        _writer = new SqliteWriter(_writerConnection, payloadOptions, options, timeProvider, _dictionaries);
        _searchIndex = new SqliteSearchIndex(DatabasePath, options, _dictionaries, _writer.RemovePendingAsync);
        _writer.SearchIndex = _searchIndex;
        if (logger is not null)
        {
            _writer.Logger = logger;
            _searchIndex.Logger = logger;
        }
        _reader = new SqliteReader(this, timeProvider);
        _admin = new SqliteAdminStore(this, timeProvider);
        _transfer = new SqliteTransfer(this, timeProvider);
    }

    public string DatabasePath { get; }

    /// <summary>The full-text index file beside the ledger (derived data: rebuilt when missing or stale).</summary>
    public string SearchIndexPath => _searchIndex.IndexPath;

    public ILedgerWriter Writer => _writer;

    public ILedgerReader Reader => _reader;

    public IAdminStore Admin => _admin;

    public ILedgerTransfer Transfer => _transfer;

    internal SqliteStoreOptions Options => _options;

    /// <summary>
    /// The layout searches are compiled for: the layout of the full-text index file when the store
    /// opened. Another process may rebuild the file in another layout since; searches then check it
    /// and read bodies instead (<see cref="SqliteSearchIndex.MarkSql"/>).
    /// </summary>
    internal int FullTextLayout => _searchIndex.Layout;

    internal PayloadOptions PayloadOptions { get; }

    /// <summary>The metadata entries filters match, kept briefly (see <see cref="SqliteMetadataMatches"/>).</summary>
    internal SqliteMetadataMatches MetadataMatches { get; }

    /// <summary>The ledger's compression dictionaries: bodies of encoding 2 are read with them.</summary>
    internal PayloadDictionaries Dictionaries => _dictionaries;

    public string Describe() => "sqlite:" + DatabasePath;

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        if (_initialized)
        {
            return;
        }

        var directory = System.IO.Path.GetDirectoryName(DatabasePath);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        await _writerConnection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(_writerConnection, "PRAGMA journal_mode=WAL;", cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(_writerConnection, string.Create(CultureInfo.InvariantCulture, $"PRAGMA synchronous={_options.Synchronous.ToUpperInvariant()};"), cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(_writerConnection, string.Create(CultureInfo.InvariantCulture, $"PRAGMA busy_timeout={_options.BusyTimeoutMs};"), cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(_writerConnection, string.Create(CultureInfo.InvariantCulture, $"PRAGMA cache_size=-{_options.CacheSizeMb * 1024};"), cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(_writerConnection, "PRAGMA temp_store=MEMORY; PRAGMA foreign_keys=OFF;", cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(_writerConnection, string.Create(CultureInfo.InvariantCulture, $"PRAGMA wal_autocheckpoint={_options.WalAutoCheckpointPages};"), cancellationToken).ConfigureAwait(false);
        var changes = await SqliteMigrator.MigrateAsync(_writerConnection, cancellationToken).ConfigureAwait(false);
        if (_options.IndexedMetadataKeyList is { Count: > 0 })
        {
            _logger?.LogInformation(
                "RunLedger:Sqlite:IndexedMetadataKeys is no longer needed and makes nothing: one index serves filters on every metadata key (the option can be removed).");
        }

        if (changes > 0)
        {
            // An upgrade writes whole tables and indexes in one transaction, so the WAL grew to
            // their size, and SQLite keeps a WAL file at its largest size while connections are
            // open (0011 left 26 MiB of WAL on 200,000 runs; gigabytes at 10M). Copy it into the
            // file and cut it back once, here, before any other connection reads.
            await ExecuteAsync(_writerConnection, "PRAGMA wal_checkpoint(TRUNCATE);", cancellationToken).ConfigureAwait(false);
        }

        // Before any reader attaches it, and before this process writes (the index is checked
        // against the ledger as it is now).
        await _searchIndex.OpenAsync(owner: _options.IndexInBackground, cancellationToken).ConfigureAwait(false);
        _writer.Start();
        _initialized = true;
    }

    /// <summary>Opens a pooled connection for reading.</summary>
    internal async Task<SqliteConnection> OpenReaderAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = string.Create(CultureInfo.InvariantCulture, $"PRAGMA busy_timeout={_options.BusyTimeoutMs};");
            await pragma.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        _searchIndex.Attach(connection);
        SqliteTailSearch.Register(connection, _options.MaxIndexedChars, _dictionaries);
        return connection;
    }

    public async Task<long> CountUnindexedRunsAsync(CancellationToken cancellationToken)
    {
        var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await SqliteSearchIndex.CountUnindexedAsync(connection, FullTextLayout, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs an admin write on the writer connection. Admin writes are rare (keys, projects); they
    /// share the writer's connection under its lock so SQLite keeps one writer.
    /// </summary>
    internal Task<T> WithWriterAsync<T>(Func<SqliteConnection, Task<T>> action) => _writer.ExclusiveAsync(action);

    internal static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _searchIndex.DisposeAsync().ConfigureAwait(false);
        _writer.Dispose();
        await _writerConnection.DisposeAsync().ConfigureAwait(false);
        SqliteConnection.ClearAllPools();
        _dictionaries.Dispose();
    }
}
