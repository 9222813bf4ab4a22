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
    public async Task Copy_DamagedBody_GoesThroughVerbatimAndPostgresReportsItUnreadable()
    {
        await using var source = await OpenSqliteAsync("damaged.db");
        await WriteWorkloadAsync(source, runs: 30);
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_directory, "damaged.db")};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE payloads SET encoding = 99 WHERE id = (SELECT input_payload FROM runs WHERE input_payload IS NOT NULL ORDER BY id LIMIT 1)";
            command.ExecuteNonQuery().ShouldBe(1);
        }

        await using var pg = await PgStore.OpenAsync(fixture.Server);
        await LedgerCopier.CopyAsync(new StoreTransferSource(source.Transfer, 16), pg.Store.Transfer, null, TestContext.Current.CancellationToken);

        var verify = await VerifyAsync(source.Transfer, pg.Store.Transfer);
        verify.Differences.ShouldBeEmpty();
        verify.RunsIdentical.ShouldBe(30);
        (await pg.ScalarAsync("SELECT count(*) FROM payloads WHERE encoding = 99")).ShouldBe(1);
        var project = (await pg.Store.Admin.FindProjectAsync("default", TestContext.Current.CancellationToken))!;
        var runs = await pg.Store.Reader.QueryRunsAsync(project.Id, new RunQuery(null, 100, null, IncludeBodies: true), TestContext.Current.CancellationToken);
        runs.Items.Single(r => r.InputInfo?.Unreadable is not null).Input.ShouldBeNull();
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

    [Fact]
    public async Task Import_PagesWithRepeatsAndChanges_CountAndStoreExactlyAsSqliteDoesRecordByRecord()
    {
        var first = Guid.CreateVersion7();
        var second = Guid.CreateVersion7();
        var night = StorageUnits.ToMicros(NightStart);
        var nextMonth = StorageUnits.ToMicros(NightStart.AddDays(20));
        TransferRecord[][] pages =
        [
            [
                new ProjectRecord("default", night),
                Run(first, night, updatedAt: night, "refund please"),
                Run(first, night + 5, updatedAt: night + 9, "refund policy changed"), // the same run again, changed
                Event(1, night, key: null),
                Event(1, night, key: null), // the same event id again
                Event(2, night, key: "k"),
                Event(3, night, key: "k"), // a key taken by the previous event
                Rollup(night, count: 1),
                Rollup(night, count: 2), // the same rollup again, changed
            ],
            [
                Run(first, nextMonth, updatedAt: night + 20, "moved to another month"), // changed and moved partition
                Run(second, night, updatedAt: night, "second run"),
                Event(4, night, key: "other"),
            ],
            [
                Run(second, night, updatedAt: night, "second run"), // unchanged
                Event(2, night, key: "k"), // already there
                Rollup(night, count: 2), // unchanged
            ],
        ];

        await using var sqlite = await OpenSqliteAsync("import.db");
        await using var pg = await PgStore.OpenAsync(fixture.Server);
        for (var i = 0; i < pages.Length; i++)
        {
            var checkpoint = new TransferCheckpoint("test-source", i.ToString(System.Globalization.CultureInfo.InvariantCulture), i == pages.Length - 1);
            var expected = await sqlite.Transfer.ImportAsync(pages[i], checkpoint, TestContext.Current.CancellationToken);
            var actual = await pg.Store.Transfer.ImportAsync(pages[i], checkpoint, TestContext.Current.CancellationToken);
            actual.ShouldBe(expected, $"page {i}");
        }

        var verify = await VerifyAsync(sqlite.Transfer, pg.Store.Transfer);
        verify.Differences.ShouldBeEmpty();
        (await pg.ScalarAsync("SELECT count(*) FROM runs")).ShouldBe(2);
        (await pg.ScalarAsync($"SELECT count(*) FROM run_ids WHERE started_at = {nextMonth}")).ShouldBe(1);
        (await pg.ScalarAsync("SELECT count(*) FROM runs WHERE search @@ 'moved <-> to <-> another'::tsquery")).ShouldBe(1);
        (await pg.ScalarAsync("SELECT count(*) FROM runs WHERE search @@ 'refund'::tsquery")).ShouldBe(0);
        (await pg.ScalarAsync("SELECT count(*) FROM events")).ShouldBe(3);
        (await pg.ScalarAsync("SELECT sum(count) FROM rollups")).ShouldBe(2);

        static RunRecord Run(Guid id, long startedAt, long updatedAt, string input) => new()
        {
            Project = "default",
            Id = id,
            Kind = "llm",
            Status = "succeeded",
            Source = "api",
            StartedAt = startedAt,
            CreatedAt = startedAt,
            UpdatedAt = updatedAt,
            Input = Body(input),
        };

        static PayloadRecord Body(string text)
        {
            var encoded = PayloadCodec.Encode(System.Text.Json.JsonSerializer.Serialize(text), new PayloadOptions());
            return new PayloadRecord(encoded.Hash, encoded.OriginalSize, encoded.Truncated, encoded.Encoding, encoded.Data);
        }

        static EventRecord Event(long id, long time, string? key) => new() { Id = id, Project = "default", Type = "custom", Time = time, IdempotencyKey = key };

        static RollupRecord Rollup(long bucketStart, long count) => new()
        {
            Project = "default",
            BucketSize = 300_000_000,
            BucketStart = bucketStart,
            Kind = "llm",
            Name = "",
            Model = "",
            Status = "succeeded",
            Count = count,
        };
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
