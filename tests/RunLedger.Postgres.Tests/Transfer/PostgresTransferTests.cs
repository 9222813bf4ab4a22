using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Payloads;
using RunLedger.Core.Query;
using RunLedger.Core.Storage;
using RunLedger.Core.Storage.Transfer;
using RunLedger.Core.Workload;
using RunLedger.Postgres.Tests.Store;
using RunLedger.Sqlite;

namespace RunLedger.Postgres.Tests.Transfer;

/// <summary>Moving a ledger between SQLite and a real PostgreSQL server, verbatim and provably.</summary>
public sealed class PostgresTransferTests(PostgresFixture fixture) : IDisposable
{
    private static readonly DateTimeOffset NightStart = new(2026, 11, 21, 22, 0, 0, TimeSpan.Zero);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "runledger-pg-transfer", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task RoundTrip_SqliteToPostgresToSqlite_EveryRunIdentical()
    {
        await using var source = await OpenSqliteAsync("source.db", new PayloadOptions { MaxBodyBytes = 64 * 1024 });
        await WriteWorkloadAsync(source, runs: 400);
        await using var pg = await PgStore.OpenAsync(fixture.Server);
        await using var back = await OpenSqliteAsync("back.db");

        await LedgerCopier.CopyAsync(new StoreTransferSource(source.Transfer, 64), pg.Store.Transfer, null, TestContext.Current.CancellationToken);
        var there = await VerifyAsync(source.Transfer, pg.Store.Transfer);
        there.Differences.ShouldBeEmpty();
        there.RunsIdentical.ShouldBe(400);

        await LedgerCopier.CopyAsync(new StoreTransferSource(pg.Store.Transfer, 64), back.Transfer, null, TestContext.Current.CancellationToken);
        var home = await VerifyAsync(source.Transfer, back.Transfer);
        home.Differences.ShouldBeEmpty();
        home.RunsIdentical.ShouldBe(400);
        (await pg.ScalarAsync("SELECT count(*) FROM payloads WHERE truncated")).ShouldBeGreaterThan(0);

        // PostgreSQL answers from what was copied: stats from rollups, search, sessions; and new
        // events continue after the copied ids.
        var project = (await pg.Store.Admin.FindProjectAsync("default", TestContext.Current.CancellationToken))!;
        var sourceProject = (await source.Admin.FindProjectAsync("default", TestContext.Current.CancellationToken))!;
        var stats = new StatsQuery(null, ["model"], null, NightStart.AddDays(-1), NightStart.AddDays(2), false);
        (await pg.Store.Reader.GetStatsAsync(project.Id, stats, TestContext.Current.CancellationToken)).Total
            .ShouldBe((await source.Reader.GetStatsAsync(sourceProject.Id, stats, TestContext.Current.CancellationToken)).Total);
        var search = new RunQuery(FilterParser.Parse("\"refund\"", FilterTarget.Runs), 500, null);
        (await pg.Store.Reader.QueryRunsAsync(project.Id, search, TestContext.Current.CancellationToken)).Items.Count
            .ShouldBe((await source.Reader.QueryRunsAsync(sourceProject.Id, search, TestContext.Current.CancellationToken)).Items.Count);
        var lastCopied = await pg.ScalarAsync("SELECT max(id) FROM events");
        var outcome = await pg.WriteAsync(project.Id, [new RunWrite { Id = Guid.CreateVersion7(), StartedAt = NightStart }]);
        outcome.LastEventId.ShouldBeGreaterThan(lastCopied);
    }

    [Fact]
    public async Task Copy_IntoPostgresInterruptedThenAgain_ResumesAndASecondCopyWritesNothing()
    {
        await using var source = await OpenSqliteAsync("source.db");
        await WriteWorkloadAsync(source, runs: 200);
        await using var pg = await PgStore.OpenAsync(fixture.Server);
        using var stop = new CancellationTokenSource();
        var pages = 0;
        await Should.ThrowAsync<OperationCanceledException>(() => LedgerCopier.CopyAsync(
            new StoreTransferSource(source.Transfer, 40), pg.Store.Transfer, new Inline(_ => { if (++pages == 4) { stop.Cancel(); } }), stop.Token));
        (await pg.ScalarAsync("SELECT count(*) FROM runs")).ShouldBeLessThan(200);

        var resumed = await LedgerCopier.CopyAsync(new StoreTransferSource(source.Transfer, 40), pg.Store.Transfer, null, TestContext.Current.CancellationToken);
        resumed.Resumed.ShouldBeTrue();
        (await VerifyAsync(source.Transfer, pg.Store.Transfer)).Identical.ShouldBeTrue();

        var again = await LedgerCopier.CopyAsync(new StoreTransferSource(source.Transfer, 40), pg.Store.Transfer, null, TestContext.Current.CancellationToken);
        again.Written.ShouldBe(0);
    }

    [Fact]
    public async Task LogicalBackupOfPostgres_RestoresIntoSqliteIdentical()
    {
        await using var source = await OpenSqliteAsync("source.db");
        await WriteWorkloadAsync(source, runs: 120);
        await using var pg = await PgStore.OpenAsync(fixture.Server);
        await LedgerCopier.CopyAsync(new StoreTransferSource(source.Transfer), pg.Store.Transfer, null, TestContext.Current.CancellationToken);

        var file = Path.Combine(_directory, "pg.jsonl.gz");
        await using (var output = File.Create(file))
        {
            await TransferFile.WriteAsync(new StoreTransferSource(pg.Store.Transfer), output, TimeProvider.System, null, TestContext.Current.CancellationToken);
        }

        await using var restored = await OpenSqliteAsync("restored.db");
        await LedgerCopier.CopyAsync(new TransferFileSource(file), restored.Transfer, null, TestContext.Current.CancellationToken);
        var verify = await VerifyAsync(pg.Store.Transfer, restored.Transfer);
        verify.Differences.ShouldBeEmpty();
        verify.RunsIdentical.ShouldBe(120);
    }

    private async Task<SqliteLedgerStore> OpenSqliteAsync(string file, PayloadOptions? payloads = null)
    {
        Directory.CreateDirectory(_directory);
        var store = new SqliteLedgerStore(Path.Combine(_directory, file), new SqliteStoreOptions(), payloads ?? new PayloadOptions(), TimeProvider.System);
        await store.InitializeAsync(TestContext.Current.CancellationToken);
        return store;
    }

    private static async Task WriteWorkloadAsync(SqliteLedgerStore store, int runs)
    {
        var project = await store.Admin.GetOrCreateProjectAsync("default", TestContext.Current.CancellationToken);
        var validator = new IngestValidator(new IngestOptions());
        var generator = new WorkloadGenerator(new WorkloadOptions { Seed = 5, NightStart = NightStart, TargetRuns = runs, Sessions = 4, LargeBodyEvery = 60 });
        foreach (var request in generator.Generate(100))
        {
            var validated = validator.Validate(request, project.Id, "demo", NightStart.AddHours(9));
            var results = await store.Writer.WriteAsync([validated.Batch], TestContext.Current.CancellationToken);
            results[0].Error.ShouldBeNull();
        }
    }

    private static Task<VerifyReport> VerifyAsync(ILedgerTransfer a, ILedgerTransfer b) =>
        LedgerVerifier.VerifyAsync(new StoreTransferSource(a, 37), new StoreTransferSource(b, 53), 10, TestContext.Current.CancellationToken);

    private sealed class Inline(Action<CopyProgress> report) : IProgress<CopyProgress>
    {
        public void Report(CopyProgress value) => report(value);
    }
}
