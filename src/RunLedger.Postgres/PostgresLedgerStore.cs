using Microsoft.Extensions.Logging;
using Npgsql;
using RunLedger.Core.Payloads;
using RunLedger.Core.Storage;
using RunLedger.Core.Storage.Transfer;

namespace RunLedger.Postgres;

/// <summary>
/// The production store: one PostgreSQL database shared by any number of server replicas,
/// through one <see cref="NpgsqlDataSource"/> (a connection pool) per store.
/// </summary>
public sealed class PostgresLedgerStore : ILedgerStore, ILedgerChangeFeed, ITransferableStore
{
    /// <summary>The channel the writer notifies with "projectId:lastEventId" when events commit.</summary>
    public const string EventsChannel = "runledger_events";

    private readonly NpgsqlDataSource _dataSource;
    private readonly PostgresWriter _writer;
    private readonly PostgresReader _reader;
    private readonly PostgresAdminStore _admin;
    private readonly PostgresTransfer _transfer;
    private readonly string _description;
    private bool _initialized;

    /// <param name="location">An Npgsql connection string or a <c>postgres://</c> URL.</param>
    public PostgresLedgerStore(string location, PostgresStoreOptions options, PayloadOptions payloadOptions, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ConnectionString = PostgresConnectionStrings.Normalize(location);
        _description = PostgresConnectionStrings.Describe(ConnectionString);
        var builder = new NpgsqlDataSourceBuilder(ConnectionString);
        builder.ConnectionStringBuilder.CommandTimeout = options.CommandTimeoutSeconds;
        builder.ConnectionStringBuilder.ApplicationName ??= "runledger";
        _dataSource = builder.Build();
        Options = options;
        Partitions = new Partitions();
        _writer = new PostgresWriter(this, payloadOptions, timeProvider);
        _reader = new PostgresReader(this, timeProvider);
        _admin = new PostgresAdminStore(this, timeProvider);
        _transfer = new PostgresTransfer(this, timeProvider);
    }

    /// <summary>The connection string in use (with its password: never log it; use <see cref="Describe"/>).</summary>
    internal string ConnectionString { get; }

    internal NpgsqlDataSource DataSource => _dataSource;

    internal PostgresStoreOptions Options { get; }

    internal Partitions Partitions { get; }

    /// <summary>
    /// The schema version this store migrates to and writes for: the newest this build knows.
    /// Tests set a lower one to stand in for a replica of an older build.
    /// </summary>
    internal int KnownSchemaVersion { get; init; } = PostgresMigrator.LatestVersion;

    public ILedgerWriter Writer => _writer;

    public ILedgerReader Reader => _reader;

    public IAdminStore Admin => _admin;

    /// <summary>
    /// Hears the commits of every server process on this database (LISTEN on
    /// <see cref="EventsChannel"/>) on a dedicated connection; see <see cref="PostgresChangeListener"/>.
    /// </summary>
    public Task ListenAsync(ILedgerChangeSink sink, ILogger logger, CancellationToken cancellationToken) =>
        new PostgresChangeListener(_dataSource, EventsChannel).ListenAsync(sink, logger, cancellationToken);

    public ILedgerTransfer Transfer => _transfer;

    public string Describe() => _description;

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        if (_initialized)
        {
            return;
        }

        await PostgresMigrator.MigrateAsync(_dataSource, KnownSchemaVersion, cancellationToken).ConfigureAwait(false);
        await _writer.CreatePartitionsAheadAsync(cancellationToken).ConfigureAwait(false);
        _initialized = true;
    }

    public async ValueTask DisposeAsync()
    {
        _writer.Dispose();
        await _dataSource.DisposeAsync().ConfigureAwait(false);
    }
}
