using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Payloads;
using RunLedger.Core.Storage;

namespace RunLedger.Conformance;

/// <summary>
/// The base of the store conformance suite: every store (SQLite, PostgreSQL, ...) is held to the
/// same contract by running the same abstract test classes through a sealed subclass each.
/// </summary>
/// <remarks>
/// <para>What a store's test project provides:</para>
/// <list type="number">
/// <item>A reference to this library and, for every abstract class deriving from
/// <see cref="StoreConformance"/> (<see cref="RunWriteConformance"/>, <see cref="EventConformance"/>,
/// <see cref="SessionConformance"/>, <see cref="FilterConformance"/>, <see cref="PaginationConformance"/>,
/// <see cref="StatsConformance"/>, <see cref="AdminConformance"/>, <see cref="ConcurrencyConformance"/>),
/// one <c>public sealed</c> subclass in the test project. xunit discovers and runs the inherited tests
/// there.</item>
/// <item>An override of <see cref="CreateDatabaseAsync"/> giving a fresh, empty database per test
/// (a temp file for SQLite; a new database or schema on a test server for PostgreSQL) as an
/// <see cref="IConformanceDatabase"/>, which opens store instances on it with the given payload
/// options and clock. Opening twice must give two independent instances on the same data.</item>
/// <item>Where a store legitimately differs from another, an override of the property that states
/// its behaviour (for example <see cref="FilterConformance.TextSearchMatchesPrefixes"/>). Each such
/// property has a named test that checks the store does what the property says; nothing is skipped.</item>
/// </list>
/// <para>Every test goes through <see cref="ILedgerStore"/> only: no SQL, no provider types.</para>
/// </remarks>
public abstract class StoreConformance : IAsyncLifetime
{
    /// <summary>"Now" for every store a test opens, unless the test moves <see cref="Clock"/>.</summary>
    public static readonly DateTimeOffset Now = new(2026, 11, 10, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Midnight UTC of the day of <see cref="Now"/>.</summary>
    public static readonly DateTimeOffset Today = new(2026, 11, 10, 0, 0, 0, TimeSpan.Zero);

    private readonly List<ILedgerStore> _stores = [];
    private IConformanceDatabase? _database;

    /// <summary>The clock every store of the test reads.</summary>
    protected ManualTimeProvider Clock { get; } = new(Now);

    /// <summary>The test's cancellation token.</summary>
    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Makes a fresh, empty database for one test. See the remarks on <see cref="StoreConformance"/>.</summary>
    protected abstract Task<IConformanceDatabase> CreateDatabaseAsync(CancellationToken cancellationToken);

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        _stores.Clear();
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Opens a store on the test's database (created on first use).</summary>
    protected async Task<ILedgerStore> OpenStoreAsync(PayloadOptions? payloads = null)
    {
        _database ??= await CreateDatabaseAsync(Ct);
        var store = await _database.OpenStoreAsync(payloads ?? new PayloadOptions(), Clock, Ct);
        _stores.Add(store);
        return store;
    }

    /// <summary>Disposes <paramref name="store"/> and opens a new instance on the same database.</summary>
    protected async Task<ILedgerStore> ReopenAsync(ILedgerStore store, PayloadOptions? payloads = null)
    {
        _stores.Remove(store);
        await store.DisposeAsync();
        return await OpenStoreAsync(payloads);
    }

    /// <summary>Runs SQL directly against the test's database (see <see cref="IConformanceDatabase.ExecuteSqlAsync"/>).</summary>
    protected async Task ExecuteSqlAsync(string sql)
    {
        _database ??= await CreateDatabaseAsync(Ct);
        await _database.ExecuteSqlAsync(sql, Ct);
    }

    /// <summary>Opens a store and creates a project in it.</summary>
    protected async Task<(ILedgerStore Store, long ProjectId)> OpenWithProjectAsync(PayloadOptions? payloads = null, string project = "p")
    {
        var store = await OpenStoreAsync(payloads);
        var created = await store.Admin.GetOrCreateProjectAsync(project, Ct);
        return (store, created.Id);
    }

    /// <summary>A batch as the ingest pipeline hands it to a store.</summary>
    protected static WriteBatch Batch(
        long projectId,
        IReadOnlyList<RunWrite>? runs = null,
        IReadOnlyList<EventWrite>? events = null,
        IReadOnlyList<SessionWrite>? sessions = null,
        string source = "api",
        DateTimeOffset? receivedAt = null) => new()
        {
            ProjectId = projectId,
            Source = source,
            ReceivedAt = receivedAt ?? Now,
            Runs = runs ?? [],
            Events = events ?? [],
            Sessions = sessions ?? [],
        };

    /// <summary>Writes one batch in its own group and asserts that it was written.</summary>
    protected static async Task<WriteOutcome> WriteAsync(
        ILedgerStore store,
        long projectId,
        IReadOnlyList<RunWrite>? runs = null,
        IReadOnlyList<EventWrite>? events = null,
        IReadOnlyList<SessionWrite>? sessions = null,
        string source = "api",
        DateTimeOffset? receivedAt = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        var results = await store.Writer.WriteAsync([Batch(projectId, runs, events, sessions, source, receivedAt)], Ct);
        results.Count.ShouldBe(1);
        results[0].Error.ShouldBeNull();
        return results[0].Outcome.ShouldNotBeNull();
    }

    /// <summary>The run, which must exist.</summary>
    protected static async Task<RunDetail> GetRunAsync(ILedgerStore store, long projectId, Guid id)
    {
        ArgumentNullException.ThrowIfNull(store);
        return (await store.Reader.GetRunAsync(projectId, id, Ct)).ShouldNotBeNull($"run {id} was not found");
    }

    /// <summary>The session, which must exist.</summary>
    protected static async Task<Session> GetSessionAsync(ILedgerStore store, long projectId, string id)
    {
        ArgumentNullException.ThrowIfNull(store);
        return (await store.Reader.GetSessionAsync(projectId, id, Ct)).ShouldNotBeNull($"session {id} was not found").Session;
    }

    /// <summary>Every run of the project matching <paramref name="filter"/>, following every page.</summary>
    protected static async Task<List<Run>> AllRunsAsync(ILedgerStore store, long projectId, Core.Query.FilterNode? filter = null, int pageSize = 500)
    {
        ArgumentNullException.ThrowIfNull(store);
        var runs = new List<Run>();
        string? cursor = null;
        do
        {
            var page = await store.Reader.QueryRunsAsync(projectId, new RunQuery(filter, pageSize, cursor), Ct);
            runs.AddRange(page.Items);
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        return runs;
    }

    /// <summary>A UUIDv7 whose time part is <paramref name="time"/>, so ids sort like their runs.</summary>
    protected static Guid NewId(DateTimeOffset? time = null) => Guid.CreateVersion7(time ?? Now);
}
