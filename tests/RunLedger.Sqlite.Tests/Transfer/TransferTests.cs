using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Payloads;
using RunLedger.Core.Query;
using RunLedger.Core.Storage;
using RunLedger.Core.Storage.Transfer;
using RunLedger.Core.Workload;
using RunLedger.Sqlite.Tests.Store;

namespace RunLedger.Sqlite.Tests.Transfer;

public sealed class TransferTests
{
    [Fact]
    public async Task Copy_DemoWorkload_TargetIsIdenticalRecordByRecord()
    {
        await using var source = await StoreFixture.OpenAsync(new PayloadOptions { MaxBodyBytes = 64 * 1024 });
        await using var target = await StoreFixture.OpenAsync();
        await WriteWorkloadAsync(source.Store, runs: 400, largeBodyEvery: 50);

        var report = await LedgerCopier.CopyAsync(new StoreTransferSource(source.Store.Transfer, pageSize: 64), target.Store.Transfer, null, default);
        report.Resumed.ShouldBeFalse();

        var verify = await VerifyAsync(source.Store, target.Store);
        verify.Differences.ShouldBeEmpty();
        verify.RunsIdentical.ShouldBe(400);
        verify.Counts.Single(c => c.Kind == "events").Target.ShouldBe(source.Scalar("SELECT count(*) FROM events"));

        // Copied verbatim: the same event ids, truncation markers kept, no events of its own.
        target.Scalar("SELECT max(id) FROM events").ShouldBe(source.Scalar("SELECT max(id) FROM events"));
        target.Scalar("SELECT count(*) FROM payloads WHERE truncated = 1").ShouldBeGreaterThan(0);
        target.Scalar("SELECT count(*) FROM payloads WHERE truncated = 1").ShouldBe(source.Scalar("SELECT count(*) FROM payloads WHERE truncated = 1"));

        // The copy answers like the original: stats from rollups, sessions, full-text search.
        var project = (await target.Store.Admin.FindProjectAsync("default", default))!;
        var sourceProject = (await source.Store.Admin.FindProjectAsync("default", default))!;
        var stats = new StatsQuery(null, ["model"], null, WorkloadStart.AddDays(-1), WorkloadStart.AddDays(2), false);
        var a = await source.Store.Reader.GetStatsAsync(sourceProject.Id, stats, default);
        var b = await target.Store.Reader.GetStatsAsync(project.Id, stats, default);
        b.Source.ShouldBe("rollups");
        b.Total.ShouldBe(a.Total);
        var search = new RunQuery(FilterParser.Parse("\"refund\"", FilterTarget.Runs), 500, null);
        (await target.Store.Reader.QueryRunsAsync(project.Id, search, default)).Items.Count
            .ShouldBe((await source.Store.Reader.QueryRunsAsync(sourceProject.Id, search, default)).Items.Count);
        var sessions = await target.Store.Reader.QuerySessionsAsync(project.Id, new SessionQuery(null, 100, null), default);
        sessions.Items.Sum(s => s.RunCount).ShouldBe(400);
    }

    [Fact]
    public async Task Copy_InterruptedThenRunAgain_ResumesFromTheCheckpointAndEndsIdentical()
    {
        await using var source = await StoreFixture.OpenAsync();
        await using var target = await StoreFixture.OpenAsync();
        await WriteWorkloadAsync(source.Store, runs: 300);
        using var stop = new CancellationTokenSource();
        var pages = 0;
        var progress = new SyncProgress(_ =>
        {
            if (++pages == 5)
            {
                stop.Cancel();
            }
        });

        await Should.ThrowAsync<OperationCanceledException>(
            () => LedgerCopier.CopyAsync(new StoreTransferSource(source.Store.Transfer, pageSize: 50), target.Store.Transfer, progress, stop.Token));
        var partial = target.Scalar("SELECT count(*) FROM runs");
        partial.ShouldBeGreaterThan(0);
        partial.ShouldBeLessThan(300);
        var checkpoint = await target.Store.Transfer.ReadCheckpointAsync(await source.Store.Transfer.GetStoreIdAsync(default), default);
        checkpoint.ShouldNotBeNull();
        checkpoint.Completed.ShouldBeFalse();

        var resumed = await LedgerCopier.CopyAsync(new StoreTransferSource(source.Store.Transfer, pageSize: 50), target.Store.Transfer, null, default);
        resumed.Resumed.ShouldBeTrue();
        resumed.Skipped.ShouldBe(0);
        (await VerifyAsync(source.Store, target.Store)).Identical.ShouldBeTrue();
    }

    [Fact]
    public async Task Copy_WorkBeforeCompleteFails_TheCopyIsNotCompleteAndTheNextRunDoesTheWorkAgain()
    {
        await using var source = await StoreFixture.OpenAsync();
        await using var target = await StoreFixture.OpenAsync();
        await WriteWorkloadAsync(source.Store, runs: 120);
        var sourceId = await source.Store.Transfer.GetStoreIdAsync(default);
        bool? completedDuringWork = null;

        await Should.ThrowAsync<IOException>(() => LedgerCopier.CopyAsync(
            new StoreTransferSource(source.Store.Transfer), target.Store.Transfer, null, default, async ct =>
            {
                completedDuringWork = (await target.Store.Transfer.ReadCheckpointAsync(sourceId, ct))?.Completed;
                throw new IOException("the process died here");
            }));

        completedDuringWork.ShouldBe(false);
        (await target.Store.Transfer.ReadCheckpointAsync(sourceId, default))!.Completed.ShouldBeFalse();

        var calls = 0;
        var again = await LedgerCopier.CopyAsync(new StoreTransferSource(source.Store.Transfer), target.Store.Transfer, null, default, _ =>
        {
            calls++;
            return Task.CompletedTask;
        });

        again.Resumed.ShouldBeTrue();
        calls.ShouldBe(1);
        (await target.Store.Transfer.ReadCheckpointAsync(sourceId, default))!.Completed.ShouldBeTrue();
        (await VerifyAsync(source.Store, target.Store)).Identical.ShouldBeTrue();
    }

    [Fact]
    public async Task Copy_SecondTime_WritesNothingAndPicksUpNewRuns()
    {
        await using var source = await StoreFixture.OpenAsync();
        await using var target = await StoreFixture.OpenAsync();
        await WriteWorkloadAsync(source.Store, runs: 120);
        var first = await LedgerCopier.CopyAsync(new StoreTransferSource(source.Store.Transfer), target.Store.Transfer, null, default);
        first.Written.ShouldBeGreaterThan(120);

        var second = await LedgerCopier.CopyAsync(new StoreTransferSource(source.Store.Transfer), target.Store.Transfer, null, default);
        second.Resumed.ShouldBeFalse();
        second.Written.ShouldBe(0);
        second.Skipped.ShouldBe(first.Written + first.Skipped);

        // A run written to the source since: the next copy brings it and its session totals.
        var project = (await source.Store.Admin.FindProjectAsync("default", default))!;
        await source.WriteAsync(project.Id, [new RunWrite { Id = Guid.CreateVersion7(), SessionId = "late", Usage = new Usage { InputTokens = 9 }, StartedAt = WorkloadStart }]);
        var third = await LedgerCopier.CopyAsync(new StoreTransferSource(source.Store.Transfer), target.Store.Transfer, null, default);
        third.Written.ShouldBeGreaterThan(0);
        (await VerifyAsync(source.Store, target.Store)).Identical.ShouldBeTrue();
        target.Scalar("SELECT input_tokens FROM sessions WHERE id = 'late'").ShouldBe(9);
    }

    [Fact]
    public async Task Copy_AgainAfterARunChangedStatus_RemovesTheRollupBucketTheSourceNoLongerHas()
    {
        await using var source = await StoreFixture.OpenAsync();
        await using var target = await StoreFixture.OpenAsync();
        var project = await source.Store.Admin.GetOrCreateProjectAsync("default", default);
        var id = Guid.CreateVersion7();
        await source.WriteAsync(project.Id, [new RunWrite { Id = id, Name = "slow", Model = "m", StartedAt = WorkloadStart, Status = RunStatus.Running }]);
        await LedgerCopier.CopyAsync(new StoreTransferSource(source.Store.Transfer), target.Store.Transfer, null, default);
        target.Scalar("SELECT count(*) FROM rollups WHERE status = 'running'").ShouldBe(RunLedger.Core.Rollups.RollupDeltas.BucketSizes.Count);

        // The source's 'running' buckets disappear when the run completes; the next copy follows.
        await source.WriteAsync(project.Id, [new RunWrite { Id = id, Status = RunStatus.Succeeded, EndedAt = WorkloadStart.AddSeconds(4) }]);
        var again = await LedgerCopier.CopyAsync(new StoreTransferSource(source.Store.Transfer, pageSize: 1), target.Store.Transfer, null, default);
        again.Written.ShouldBeGreaterThan(0);
        target.Scalar("SELECT count(*) FROM rollups WHERE status = 'running'").ShouldBe(0);
        (await VerifyAsync(source.Store, target.Store)).Differences.ShouldBeEmpty();
    }

    [Fact]
    public async Task Copy_MetadataEntriesAreMadeOnceWithExactCounts_AndFollowARunWhoseMetadataChanged()
    {
        await using var source = await StoreFixture.OpenAsync();
        await using var target = await StoreFixture.OpenAsync();
        await WriteWorkloadAsync(source.Store, runs: 200);
        await LedgerCopier.CopyAsync(new StoreTransferSource(source.Store.Transfer, pageSize: 32), target.Store.Transfer, null, default);
        source.Scalar("SELECT count(*) FROM run_metadata").ShouldBeGreaterThan(1);
        target.Scalar("SELECT count(*) FROM run_metadata").ShouldBe(source.Scalar("SELECT count(*) FROM run_metadata"));
        MetadataCountsAreExact(target);

        // The only run of an entry gets other metadata: the next copy moves its count and drops the entry.
        var project = (await source.Store.Admin.FindProjectAsync("default", default))!;
        var id = Guid.CreateVersion7();
        await source.WriteAsync(project.Id, [new RunWrite { Id = id, StartedAt = WorkloadStart, Metadata = new RawJson("{\"trace\":\"t-1\"}") }]);
        await LedgerCopier.CopyAsync(new StoreTransferSource(source.Store.Transfer), target.Store.Transfer, null, default);
        target.Scalar("SELECT count(*) FROM run_metadata WHERE json = '{\"trace\":\"t-1\"}'").ShouldBe(1);
        await source.WriteAsync(project.Id, [new RunWrite { Id = id, Metadata = new RawJson("{\"trace\":\"t-2\"}") }]);
        await LedgerCopier.CopyAsync(new StoreTransferSource(source.Store.Transfer), target.Store.Transfer, null, default);
        target.Scalar("SELECT count(*) FROM run_metadata WHERE json = '{\"trace\":\"t-1\"}'").ShouldBe(0);
        target.Scalar("SELECT runs FROM run_metadata WHERE json = '{\"trace\":\"t-2\"}'").ShouldBe(1);
        MetadataCountsAreExact(target);
        (await VerifyAsync(source.Store, target.Store)).Differences.ShouldBeEmpty();
    }

    private static void MetadataCountsAreExact(StoreFixture f)
    {
        f.Scalar("SELECT count(*) FROM run_metadata m WHERE m.runs <> (SELECT count(*) FROM runs r WHERE r.metadata_key = m.key)").ShouldBe(0);
        f.Scalar("SELECT count(*) FROM run_metadata WHERE runs <= 0").ShouldBe(0);
    }

    [Fact]
    public async Task Copy_IntoAStoreWithOtherData_RefusesAndWritesNothing()
    {
        await using var source = await StoreFixture.OpenAsync();
        await using var target = await StoreFixture.OpenAsync();
        await WriteWorkloadAsync(source.Store, runs: 20);
        var project = await target.Store.Admin.GetOrCreateProjectAsync("default", default);
        await target.WriteAsync(project.Id, [new RunWrite { Id = Guid.CreateVersion7(), StartedAt = WorkloadStart }]);

        var error = await Should.ThrowAsync<TransferConflictException>(
            () => LedgerCopier.CopyAsync(new StoreTransferSource(source.Store.Transfer), target.Store.Transfer, null, default));
        error.Message.ShouldContain("empty store");
        target.Scalar("SELECT count(*) FROM runs").ShouldBe(1);
    }

    [Fact]
    public async Task Verify_ChangedRunAndMissingEvent_NamesTheRuns()
    {
        await using var source = await StoreFixture.OpenAsync();
        await using var target = await StoreFixture.OpenAsync();
        await WriteWorkloadAsync(source.Store, runs: 60);
        await LedgerCopier.CopyAsync(new StoreTransferSource(source.Store.Transfer), target.Store.Transfer, null, default);
        var changed = target.Scalar("SELECT seq FROM runs ORDER BY id LIMIT 1 OFFSET 10");
        Execute(target, $"UPDATE runs SET output_tokens = coalesce(output_tokens, 0) + 1 WHERE seq = {changed}");
        Execute(target, "DELETE FROM events WHERE id = (SELECT max(id) FROM events WHERE run_id IS NOT NULL)");

        var verify = await VerifyAsync(source.Store, target.Store);
        verify.Identical.ShouldBeFalse();
        verify.DifferenceCount.ShouldBe(2);
        verify.RunsIdentical.ShouldBe(59);
        verify.DifferingRuns.Count.ShouldBe(2);
        verify.Differences.Select(d => d.Problem).ShouldBe(["content differs", "missing in the target"]);
    }

    [Fact]
    public async Task Copy_DamagedBody_IsCopiedVerbatimAndVerifiesIdentical()
    {
        await using var source = await StoreFixture.OpenAsync();
        await using var target = await StoreFixture.OpenAsync();
        await WriteWorkloadAsync(source.Store, runs: 30);
        // One body in an encoding this version does not know (bit rot, or written by a newer version).
        Execute(source, "UPDATE payloads SET encoding = 99 WHERE id = (SELECT input_payload FROM runs WHERE input_payload IS NOT NULL ORDER BY id LIMIT 1)");

        await LedgerCopier.CopyAsync(new StoreTransferSource(source.Store.Transfer), target.Store.Transfer, null, default);

        var verify = await VerifyAsync(source.Store, target.Store);
        verify.Differences.ShouldBeEmpty();
        verify.RunsIdentical.ShouldBe(30);
        target.Scalar("SELECT count(*) FROM payloads WHERE encoding = 99").ShouldBe(1);
        target.Scalar("SELECT count(*) FROM payloads p JOIN runs r ON r.input_payload = p.id WHERE p.encoding = 99 AND r.id = (SELECT id FROM runs WHERE input_payload IS NOT NULL ORDER BY id LIMIT 1)").ShouldBe(1);

        // The copy reads like the original: the run answers, its body reported unreadable.
        var project = (await target.Store.Admin.FindProjectAsync("default", default))!;
        var runs = await target.Store.Reader.QueryRunsAsync(project.Id, new RunQuery(null, 100, null, IncludeBodies: true), default);
        runs.Items.Count(r => r.InputInfo?.Unreadable is not null).ShouldBe(1);
    }

    [Fact]
    public async Task Backup_WhileWriting_RestoresToAnIdenticalLedger()
    {
        await using var source = await StoreFixture.OpenAsync();
        await WriteWorkloadAsync(source.Store, runs: 200);
        var project = (await source.Store.Admin.FindProjectAsync("default", default))!;
        using var stop = new CancellationTokenSource();
        var writes = Task.Run(async () =>
        {
            var n = 0;
            while (!stop.IsCancellationRequested)
            {
                await source.WriteAsync(project.Id, [new RunWrite { Id = Guid.CreateVersion7(), Name = "live", StartedAt = WorkloadStart.AddSeconds(n++) }]);
            }

            return n;
        });

        var backup = Path.Combine(source.Directory, "backup.db");
        await Task.Delay(50);
        await SqliteBackup.BackupAsync(source.DatabasePath, backup, 5000, default);
        stop.Cancel();
        (await writes).ShouldBeGreaterThan(0);
        SqliteBackup.IsSqliteFile(backup).ShouldBeTrue();

        await using var restored = await StoreFixture.OpenAsync();
        await restored.Store.DisposeAsync();
        await SqliteBackup.RestoreAsync(backup, restored.DatabasePath, 5000, default);
        await restored.ReopenAsync();
        await using var snapshot = await StoreFixture.OpenAsync(directory: Path.Combine(source.Directory, "snapshot"));
        await snapshot.Store.DisposeAsync();
        File.Copy(backup, snapshot.DatabasePath, overwrite: true);
        await snapshot.ReopenAsync();

        // The backup is a consistent snapshot (every run's events and totals with it) and the
        // restored store holds exactly what the backup holds.
        restored.Scalar("SELECT count(*) FROM runs").ShouldBeGreaterThanOrEqualTo(200);
        restored.Scalar("SELECT count(*) FROM runs r WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.run_id = r.id)").ShouldBe(0);
        (await VerifyAsync(snapshot.Store, restored.Store)).Identical.ShouldBeTrue();
    }

    internal static readonly DateTimeOffset WorkloadStart = new(2026, 11, 21, 22, 0, 0, TimeSpan.Zero);

    internal static async Task WriteWorkloadAsync(SqliteLedgerStore store, int runs, int largeBodyEvery = 0)
    {
        var project = await store.Admin.GetOrCreateProjectAsync("default", default);
        var validator = new IngestValidator(new IngestOptions());
        var generator = new WorkloadGenerator(new WorkloadOptions { Seed = 3, NightStart = WorkloadStart, TargetRuns = runs, Sessions = 4, LargeBodyEvery = largeBodyEvery });
        foreach (var request in generator.Generate(100))
        {
            var validated = validator.Validate(request, project.Id, "demo", WorkloadStart.AddHours(9));
            validated.Rejected.ShouldBeEmpty();
            var results = await store.Writer.WriteAsync([validated.Batch], default);
            results[0].Error.ShouldBeNull();
        }
    }

    private static Task<VerifyReport> VerifyAsync(SqliteLedgerStore a, SqliteLedgerStore b) =>
        LedgerVerifier.VerifyAsync(new StoreTransferSource(a.Transfer, 37), new StoreTransferSource(b.Transfer, 53), 10, default);

    private static void Execute(StoreFixture fixture, string sql)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={fixture.DatabasePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; posts to the thread pool, too late to stop a copy at an exact page).</summary>
    private sealed class SyncProgress(Action<CopyProgress> report) : IProgress<CopyProgress>
    {
        public void Report(CopyProgress value) => report(value);
    }
}
