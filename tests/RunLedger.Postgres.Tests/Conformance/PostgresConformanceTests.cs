using RunLedger.Conformance;

namespace RunLedger.Postgres.Tests.Conformance;

// The store conformance suite run against PostgreSQL: one sealed subclass per area, each giving
// the suite a fresh database on the shared test server per test.
#pragma warning disable SA1402, MA0048 // several small types in one file, on purpose

public sealed class PostgresRunWriteConformance(PostgresFixture fixture) : RunWriteConformance
{
    protected override Task<IConformanceDatabase> CreateDatabaseAsync(CancellationToken cancellationToken) => PostgresConformanceDatabase.CreateAsync(fixture.Server, cancellationToken);
}

public sealed class PostgresEventConformance(PostgresFixture fixture) : EventConformance
{
    protected override Task<IConformanceDatabase> CreateDatabaseAsync(CancellationToken cancellationToken) => PostgresConformanceDatabase.CreateAsync(fixture.Server, cancellationToken);
}

public sealed class PostgresSessionConformance(PostgresFixture fixture) : SessionConformance
{
    protected override Task<IConformanceDatabase> CreateDatabaseAsync(CancellationToken cancellationToken) => PostgresConformanceDatabase.CreateAsync(fixture.Server, cancellationToken);
}

/// <summary>Words split as FTS5's unicode61 tokenizer splits them (see SearchText): whole words, no stemming, no prefixes.</summary>
public sealed class PostgresFilterConformance(PostgresFixture fixture) : FilterConformance
{
    protected override Task<IConformanceDatabase> CreateDatabaseAsync(CancellationToken cancellationToken) => PostgresConformanceDatabase.CreateAsync(fixture.Server, cancellationToken);
}

public sealed class PostgresPaginationConformance(PostgresFixture fixture) : PaginationConformance
{
    protected override Task<IConformanceDatabase> CreateDatabaseAsync(CancellationToken cancellationToken) => PostgresConformanceDatabase.CreateAsync(fixture.Server, cancellationToken);
}

public sealed class PostgresStatsConformance(PostgresFixture fixture) : StatsConformance
{
    protected override Task<IConformanceDatabase> CreateDatabaseAsync(CancellationToken cancellationToken) => PostgresConformanceDatabase.CreateAsync(fixture.Server, cancellationToken);
}

public sealed class PostgresAdminConformance(PostgresFixture fixture) : AdminConformance
{
    protected override Task<IConformanceDatabase> CreateDatabaseAsync(CancellationToken cancellationToken) => PostgresConformanceDatabase.CreateAsync(fixture.Server, cancellationToken);
}

public sealed class PostgresConcurrencyConformance(PostgresFixture fixture) : ConcurrencyConformance
{
    protected override Task<IConformanceDatabase> CreateDatabaseAsync(CancellationToken cancellationToken) => PostgresConformanceDatabase.CreateAsync(fixture.Server, cancellationToken);
}

public sealed class PostgresWriteRoundTripConformance(PostgresFixture fixture) : WriteRoundTripConformance
{
    protected override Task<IConformanceDatabase> CreateDatabaseAsync(CancellationToken cancellationToken) => PostgresConformanceDatabase.CreateAsync(fixture.Server, cancellationToken);
}
