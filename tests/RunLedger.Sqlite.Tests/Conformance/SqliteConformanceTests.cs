using RunLedger.Conformance;

namespace RunLedger.Sqlite.Tests.Conformance;

// The store conformance suite run against SQLite: one sealed subclass per area, each giving the
// suite a fresh database file per test. They live together because each is only that one line.
#pragma warning disable SA1402, MA0048 // several small types in one file, on purpose

public sealed class SqliteRunWriteConformance : RunWriteConformance
{
    protected override Task<IConformanceDatabase> CreateDatabaseAsync(CancellationToken cancellationToken) => SqliteConformanceDatabase.CreateAsync();
}

public sealed class SqliteEventConformance : EventConformance
{
    protected override Task<IConformanceDatabase> CreateDatabaseAsync(CancellationToken cancellationToken) => SqliteConformanceDatabase.CreateAsync();
}

public sealed class SqliteSessionConformance : SessionConformance
{
    protected override Task<IConformanceDatabase> CreateDatabaseAsync(CancellationToken cancellationToken) => SqliteConformanceDatabase.CreateAsync();
}

/// <summary>SQLite FTS5 with the unicode61 tokenizer: whole words, no stemming, no prefixes (the documented behaviour).</summary>
public sealed class SqliteFilterConformance : FilterConformance
{
    protected override Task<IConformanceDatabase> CreateDatabaseAsync(CancellationToken cancellationToken) => SqliteConformanceDatabase.CreateAsync();
}

/// <summary>The same with the full-text index without word positions (phrases checked against the bodies).</summary>
public sealed class SqliteFilterWithoutPositionsConformance : FilterConformance
{
    protected override Task<IConformanceDatabase> CreateDatabaseAsync(CancellationToken cancellationToken) =>
        SqliteConformanceDatabase.CreateAsync(new SqliteStoreOptions { FullTextPositions = false });
}

/// <summary>
/// The same with search pages looked for in windows of the newest two runs and up (the default
/// starts at 4,096, more than these ledgers hold), so every search walks the windows and their check.
/// </summary>
public sealed class SqliteFilterInSearchWindowsConformance : FilterConformance
{
    protected override Task<IConformanceDatabase> CreateDatabaseAsync(CancellationToken cancellationToken) =>
        SqliteConformanceDatabase.CreateAsync(new SqliteStoreOptions { SearchWindowRuns = 2 });
}

public sealed class SqlitePaginationConformance : PaginationConformance
{
    protected override Task<IConformanceDatabase> CreateDatabaseAsync(CancellationToken cancellationToken) => SqliteConformanceDatabase.CreateAsync();
}

/// <summary>Pagination with search pages looked for in windows of the newest two runs and up.</summary>
public sealed class SqlitePaginationInSearchWindowsConformance : PaginationConformance
{
    protected override Task<IConformanceDatabase> CreateDatabaseAsync(CancellationToken cancellationToken) =>
        SqliteConformanceDatabase.CreateAsync(new SqliteStoreOptions { SearchWindowRuns = 2 });
}

public sealed class SqliteStatsConformance : StatsConformance
{
    protected override Task<IConformanceDatabase> CreateDatabaseAsync(CancellationToken cancellationToken) => SqliteConformanceDatabase.CreateAsync();
}

public sealed class SqliteAdminConformance : AdminConformance
{
    protected override Task<IConformanceDatabase> CreateDatabaseAsync(CancellationToken cancellationToken) => SqliteConformanceDatabase.CreateAsync();
}

public sealed class SqliteConcurrencyConformance : ConcurrencyConformance
{
    protected override Task<IConformanceDatabase> CreateDatabaseAsync(CancellationToken cancellationToken) => SqliteConformanceDatabase.CreateAsync();
}

public sealed class SqliteWriteRoundTripConformance : WriteRoundTripConformance
{
    protected override Task<IConformanceDatabase> CreateDatabaseAsync(CancellationToken cancellationToken) => SqliteConformanceDatabase.CreateAsync();
}
