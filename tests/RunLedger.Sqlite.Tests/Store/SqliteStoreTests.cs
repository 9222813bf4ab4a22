using Microsoft.Data.Sqlite;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Payloads;
using RunLedger.Core.Query;
using RunLedger.Core.Storage;

namespace RunLedger.Sqlite.Tests.Store;

public sealed class SqliteStoreTests
{
    private static readonly DateTimeOffset Day = StoreFixture.Day;

    [Fact]
    public async Task Write_RunStartedThenCompleted_KeepsStartFieldsAndAddsCompletion()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var id = Guid.CreateVersion7();
        await f.WriteAsync(project.Id, [new RunWrite { Id = id, Kind = RunKind.Llm, Name = "plan", Model = "gpt-4o", StartedAt = Day.AddHours(1), Input = RawJson.FromString("question"), SessionId = "s" }]);
        await f.WriteAsync(project.Id, [new RunWrite { Id = id, Status = RunStatus.Failed, EndedAt = Day.AddHours(1).AddSeconds(3), Output = RawJson.Parse("{\"a\":1}"), Usage = new Usage { InputTokens = 10, OutputTokens = 4 }, CostUsd = 0.25m }]);

        var detail = await f.Store.Reader.GetRunAsync(project.Id, id, default);
        detail.ShouldNotBeNull();
        var run = detail.Run;
        run.Name.ShouldBe("plan");
        run.Model.ShouldBe("gpt-4o");
        run.Status.ShouldBe("failed");
        run.Input!.Text.ShouldBe("\"question\"");
        run.Output!.Text.ShouldBe("{\"a\":1}");
        run.DurationMs.ShouldBe(3000);
        run.CostUsd.ShouldBe(0.25m);
        detail.Events.Select(e => e.Type).ShouldBe([EventTypes.RunStarted, EventTypes.RunFailed]);
        f.Scalar("SELECT count(*) FROM runs").ShouldBe(1);

        var session = (await f.Store.Reader.GetSessionAsync(project.Id, "s", default))!.Session;
        session.RunCount.ShouldBe(1);
        session.FailedCount.ShouldBe(1);
        session.InputTokens.ShouldBe(10);
        session.CostUsd.ShouldBe(0.25m);

        // The rollups moved the run from 'running' to 'failed': one row per bucket size, none left for 'running'.
        f.Scalar("SELECT count(*) FROM rollups WHERE status = 'running'").ShouldBe(0);
        f.Scalar("SELECT sum(count) FROM rollups WHERE status = 'failed' AND bucket_size = 86400").ShouldBe(1);
    }

    [Fact]
    public async Task Stats_FromRollupsAndFromRows_AgreeAfterUpdates()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var random = new Random(7);
        var ids = new List<Guid>();
        var runs = new List<RunWrite>();
        for (var i = 0; i < 400; i++)
        {
            var id = Guid.CreateVersion7();
            ids.Add(id);
            var start = Day.AddMinutes(random.Next(0, 3 * 24 * 60));
            runs.Add(new RunWrite
            {
                Id = id,
                Kind = RunKind.Llm,
                Name = "n" + (i % 3).ToString(System.Globalization.CultureInfo.InvariantCulture),
                Model = i % 2 == 0 ? "gpt-4o" : "claude",
                StartedAt = start,
                EndedAt = start.AddMilliseconds(Math.Exp(random.NextDouble() * 8)),
                Status = i % 10 == 0 ? RunStatus.Failed : RunStatus.Succeeded,
                Usage = new Usage { InputTokens = i, OutputTokens = 2 * i },
                CostUsd = i * 0.000001m,
                Metadata = RawJson.Parse("{\"repository\":\"r" + (i % 4).ToString(System.Globalization.CultureInfo.InvariantCulture) + "\"}"),
            });
        }

        await f.WriteAsync(project.Id, runs);

        // Update a third of them: new status and a longer duration.
        var updates = ids.Where((_, i) => i % 3 == 0).Select(id => new RunWrite { Id = id, Status = RunStatus.Timeout, EndedAt = runs[ids.IndexOf(id)].StartedAt!.Value.AddSeconds(30) }).ToList();
        await f.WriteAsync(project.Id, updates);

        var query = new StatsQuery(null, ["model"], TimeSpan.FromDays(1), Day, Day.AddDays(3), false);
        var fromRollups = await f.Store.Reader.GetStatsAsync(project.Id, query, default);
        fromRollups.Source.ShouldBe("rollups");

        // A filter the rollups cannot answer forces the rows; the figures must be the same.
        var rowsQuery = query with { Filter = FilterParser.Parse("cost>=0", FilterTarget.Runs) };
        var fromRows = await f.Store.Reader.GetStatsAsync(project.Id, rowsQuery, default);
        fromRows.Source.ShouldBe("runs");

        fromRollups.Total.Count.ShouldBe(400);
        fromRollups.Total.Errors.ShouldBe(fromRows.Total.Errors);
        fromRollups.Total.Errors.ShouldBe(runs.Count(r => r.Status == RunStatus.Failed && ids.IndexOf(r.Id) % 3 != 0) + updates.Count);
        fromRollups.Total.InputTokens.ShouldBe(fromRows.Total.InputTokens);
        fromRollups.Total.CostUsd.ShouldBe(fromRows.Total.CostUsd);
        fromRollups.Total.P95Ms.ShouldBe(fromRows.Total.P95Ms);
        fromRollups.Groups.Count.ShouldBe(2);
        foreach (var group in fromRollups.Groups)
        {
            var other = fromRows.Groups.Single(g => g.Key["model"] == group.Key["model"]);
            group.Figures.Count.ShouldBe(other.Figures.Count);
            group.Figures.P50Ms.ShouldBe(other.Figures.P50Ms);
            group.Series!.Sum(p => p.Figures.Count).ShouldBe(group.Figures.Count);
        }
    }

    [Fact]
    public async Task Write_EndBeforeStoredStart_RejectsOnlyThatRun()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var id = Guid.CreateVersion7();
        await f.WriteAsync(project.Id, [new RunWrite { Id = id, StartedAt = Day.AddHours(5) }]);
        var good = Guid.CreateVersion7();
        var outcome = await f.WriteAsync(project.Id, [new RunWrite { Id = id, EndedAt = Day.AddHours(4), Index = 0 }, new RunWrite { Id = good, StartedAt = Day, Index = 1 }]);
        outcome.Rejected.Count.ShouldBe(1);
        outcome.Rejected[0].Index.ShouldBe(0);
        outcome.Rejected[0].Error.ShouldContain("endedAt");
        (await f.Store.Reader.GetRunAsync(project.Id, good, default)).ShouldNotBeNull();
        (await f.Store.Reader.GetRunAsync(project.Id, id, default))!.Run.EndedAt.ShouldBeNull();
    }

    [Fact]
    public async Task Payloads_IdenticalBodies_AreStoredOnceUnlessDedupeIsOff()
    {
        var body = RawJson.FromString(string.Concat(Enumerable.Repeat("You are a careful assistant. ", 100)));
        await using (var f = await StoreFixture.OpenAsync())
        {
            var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
            await f.WriteAsync(project.Id, [new RunWrite { Id = Guid.CreateVersion7(), Input = body }, new RunWrite { Id = Guid.CreateVersion7(), Input = body }]);
            f.Scalar("SELECT count(*) FROM payloads").ShouldBe(1);
            f.Scalar("SELECT stored_size FROM payloads").ShouldBeLessThan(f.Scalar("SELECT original_size FROM payloads") / 5);
        }

        await using (var f = await StoreFixture.OpenAsync(new PayloadOptions { Deduplicate = false }))
        {
            var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
            await f.WriteAsync(project.Id, [new RunWrite { Id = Guid.CreateVersion7(), Input = body }, new RunWrite { Id = Guid.CreateVersion7(), Input = body }]);
            f.Scalar("SELECT count(*) FROM payloads").ShouldBe(2);
        }
    }

    [Fact]
    public async Task Events_SameIdempotencyKey_StoredOnce()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var e = new EventWrite { Type = "heartbeat", Time = Day, IdempotencyKey = "k1", Data = RawJson.Parse("{\"n\":1}") };
        await f.WriteAsync(project.Id, events: [e, e]);
        await f.WriteAsync(project.Id, events: [e]);
        f.Scalar("SELECT count(*) FROM events WHERE idempotency_key = 'k1'").ShouldBe(1);
    }

    [Fact]
    public async Task Sessions_RunMovedToAnotherSession_MovesItsTotals()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var id = Guid.CreateVersion7();
        await f.WriteAsync(project.Id, [new RunWrite { Id = id, SessionId = "a", Usage = new Usage { InputTokens = 5 }, StartedAt = Day }]);
        await f.WriteAsync(project.Id, [new RunWrite { Id = id, SessionId = "b" }]);
        var a = (await f.Store.Reader.GetSessionAsync(project.Id, "a", default))!.Session;
        var b = (await f.Store.Reader.GetSessionAsync(project.Id, "b", default))!.Session;
        a.RunCount.ShouldBe(0);
        a.InputTokens.ShouldBe(0);
        b.RunCount.ShouldBe(1);
        b.InputTokens.ShouldBe(5);
    }

    [Fact]
    public async Task Initialize_Twice_KeepsDataAndSchemaVersion()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var id = Guid.CreateVersion7();
        await f.WriteAsync(project.Id, [new RunWrite { Id = id, StartedAt = Day }]);
        await f.ReopenAsync();
        (await f.Store.Reader.GetRunAsync(project.Id, id, default)).ShouldNotBeNull();
        f.Scalar("SELECT count(*) FROM schema_version").ShouldBe(SqliteMigrator.Migrations.Count);
        f.Scalar("SELECT count(*) FROM pragma_journal_mode() WHERE journal_mode = 'wal'").ShouldBe(1);
    }

    [Fact]
    public async Task Initialize_NewerSchema_FailsWithAClearMessage()
    {
        await using var f = await StoreFixture.OpenAsync();
        await f.Store.DisposeAsync();
        using (var connection = new SqliteConnection($"Data Source={f.DatabasePath};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO schema_version (version, name, applied_at) VALUES (999, 'future', 'x');";
            command.ExecuteNonQuery();
        }

        var store = new SqliteLedgerStore(f.DatabasePath, new SqliteStoreOptions(), new PayloadOptions(), TimeProvider.System);
        var error = await Should.ThrowAsync<InvalidOperationException>(() => store.InitializeAsync(default));
        error.Message.ShouldContain("newer");
        await store.DisposeAsync();
    }
}
