using Npgsql;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Payloads;
using RunLedger.Core.Storage;

namespace RunLedger.Postgres.Tests.Store;

public sealed class PostgresStoreTests(PostgresFixture fixture)
{
    private static readonly DateTimeOffset Day = PgStore.Day;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Write_FarPastAndFarFuture_CreatesTheirMonthsAndLands()
    {
        await using var f = await PgStore.OpenAsync(fixture.Server);
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", Cancel);
        var past = Guid.NewGuid();
        var future = Guid.NewGuid();
        var pastStart = new DateTimeOffset(1999, 1, 15, 8, 0, 0, TimeSpan.Zero);
        var futureStart = new DateTimeOffset(2150, 6, 30, 23, 59, 59, TimeSpan.Zero);

        await f.WriteAsync(
            project.Id,
            [new RunWrite { Id = past, Name = "old", StartedAt = pastStart }, new RunWrite { Id = future, Name = "new", StartedAt = futureStart }],
            [new EventWrite { Type = "custom", Time = new DateTimeOffset(1980, 2, 1, 0, 0, 0, TimeSpan.Zero) }]);

        (await f.Store.Reader.GetRunAsync(project.Id, past, Cancel))!.Run.StartedAt.ShouldBe(pastStart);
        (await f.Store.Reader.GetRunAsync(project.Id, future, Cancel))!.Run.StartedAt.ShouldBe(futureStart);
        (await f.ScalarAsync("SELECT count(*) FROM runs_y1999m01")).ShouldBe(1);
        (await f.ScalarAsync("SELECT count(*) FROM runs_y2150m06")).ShouldBe(1);
        (await f.ScalarAsync("SELECT count(*) FROM events_y1980m02")).ShouldBe(1);

        // A second store (another replica) learns the partitions from the catalog and writes there too.
        await using var replica = PgStore.Create(f.ConnectionString);
        await replica.InitializeAsync(Cancel);
        await PgStore.WriteWithAsync(replica, project.Id, [new RunWrite { Id = Guid.NewGuid(), StartedAt = pastStart.AddDays(1) }]);
        (await f.ScalarAsync("SELECT count(*) FROM runs_y1999m01")).ShouldBe(2);
    }

    [Fact]
    public async Task Write_SameIdTwice_UpdatesOneRunAndKeepsOmittedFields()
    {
        await using var f = await PgStore.OpenAsync(fixture.Server);
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", Cancel);
        var id = Guid.CreateVersion7();
        await f.WriteAsync(project.Id, [new RunWrite
        {
            Id = id, Kind = RunKind.Llm, Name = "plan", Model = "gpt-4o", StartedAt = Day.AddHours(1), Input = RawJson.FromString("question"),
            SessionId = "s", Tags = ["a", "b"], Metadata = RawJson.Parse("{\"repo\":\"acme/web\",  \"n\": 1.50}"),
        }]);
        await f.WriteAsync(project.Id, [new RunWrite
        {
            Id = id, Status = RunStatus.Failed, EndedAt = Day.AddHours(1).AddSeconds(3), Output = RawJson.Parse("{\"a\":\"answer\"}"),
            Usage = new Usage { InputTokens = 10, OutputTokens = 4 }, CostUsd = 0.25m, Error = new RunError { Message = "boom" },
        }]);

        var detail = (await f.Store.Reader.GetRunAsync(project.Id, id, Cancel))!;
        var run = detail.Run;
        run.Name.ShouldBe("plan");
        run.Model.ShouldBe("gpt-4o");
        run.Status.ShouldBe("failed");
        run.Input!.Text.ShouldBe("\"question\"");
        run.Output!.Text.ShouldBe("{\"a\":\"answer\"}");
        run.Tags.ShouldBe(["a", "b"]);
        run.Metadata!.Text.ShouldBe("{\"repo\":\"acme/web\",  \"n\": 1.50}", "metadata comes back as sent");
        run.DurationMs.ShouldBe(3000);
        run.CostUsd.ShouldBe(0.25m);
        run.Error!.Message.ShouldBe("boom");
        detail.Events.Select(e => e.Type).ShouldBe([EventTypes.RunStarted, EventTypes.RunFailed]);
        (await f.ScalarAsync("SELECT count(*) FROM runs")).ShouldBe(1);
        (await f.ScalarAsync("SELECT count(*) FROM run_ids")).ShouldBe(1);

        var session = (await f.Store.Reader.GetSessionAsync(project.Id, "s", Cancel))!.Session;
        session.RunCount.ShouldBe(1);
        session.FailedCount.ShouldBe(1);
        session.InputTokens.ShouldBe(10);
        session.CostUsd.ShouldBe(0.25m);
        (await f.ScalarAsync("SELECT count(*) FROM rollups WHERE status = 'running'")).ShouldBe(0);
        (await f.ScalarAsync("SELECT sum(count) FROM rollups WHERE status = 'failed' AND bucket_size = 86400")).ShouldBe(1);

        // The error message and the later output are searchable, as is the earlier input.
        foreach (var text in new[] { "boom", "question", "answer" })
        {
            var page = await f.Store.Reader.QueryRunsAsync(project.Id, new RunQuery(Core.Query.FilterParser.Parse(text, Core.Query.FilterTarget.Runs), 10, null), Cancel);
            page.Items.Select(r => r.Id).ShouldBe([id], text);
        }
    }

    [Fact]
    public async Task Write_StartMovesToAnotherMonth_MovesTheRowAndKeepsItSearchable()
    {
        await using var f = await PgStore.OpenAsync(fixture.Server);
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", Cancel);
        var id = Guid.NewGuid();
        await f.WriteAsync(project.Id, [new RunWrite { Id = id, StartedAt = new DateTimeOffset(2026, 11, 30, 23, 0, 0, TimeSpan.Zero), Input = RawJson.FromString("zebra crossing") }]);
        await f.WriteAsync(project.Id, [new RunWrite { Id = id, StartedAt = new DateTimeOffset(2026, 12, 1, 1, 0, 0, TimeSpan.Zero), Name = "moved" }]);

        (await f.ScalarAsync("SELECT count(*) FROM runs")).ShouldBe(1);
        (await f.ScalarAsync("SELECT count(*) FROM runs_y2026m12")).ShouldBe(1);
        var run = (await f.Store.Reader.GetRunAsync(project.Id, id, Cancel))!.Run;
        run.Name.ShouldBe("moved");
        run.Input!.Text.ShouldBe("\"zebra crossing\"");
        var page = await f.Store.Reader.QueryRunsAsync(project.Id, new RunQuery(Core.Query.FilterParser.Parse("\"zebra crossing\"", Core.Query.FilterTarget.Runs), 10, null), Cancel);
        page.Items.Select(r => r.Id).ShouldBe([id]);
    }

    [Fact]
    public async Task Write_FailingBatch_RollsBackAloneAndItsNeighboursCommit()
    {
        await using var f = await PgStore.OpenAsync(fixture.Server);
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", Cancel);
        var good1 = Guid.NewGuid();
        var bad = Guid.NewGuid();
        var good2 = Guid.NewGuid();

        // PostgreSQL text cannot hold a NUL character: the middle batch fails in the database.
        var results = await f.Store.Writer.WriteAsync(
            [
                PgStore.Batch(project.Id, [new RunWrite { Id = good1, Name = "one", StartedAt = Day }]),
                PgStore.Batch(project.Id, [new RunWrite { Id = bad, Name = "nul\0name", StartedAt = Day }], sessions: [new SessionWrite { Id = "bad-session" }]),
                PgStore.Batch(project.Id, [new RunWrite { Id = good2, Name = "two", StartedAt = Day }]),
            ],
            Cancel);

        results[0].Succeeded.ShouldBeTrue();
        results[1].Error.ShouldBeOfType<PostgresException>();
        results[2].Succeeded.ShouldBeTrue();
        (await f.Store.Reader.GetRunAsync(project.Id, good1, Cancel)).ShouldNotBeNull();
        (await f.Store.Reader.GetRunAsync(project.Id, good2, Cancel)).ShouldNotBeNull();
        (await f.Store.Reader.GetRunAsync(project.Id, bad, Cancel)).ShouldBeNull();
        (await f.Store.Reader.GetSessionAsync(project.Id, "bad-session", Cancel)).ShouldBeNull();
        (await f.ScalarAsync("SELECT sum(count) FROM rollups WHERE bucket_size = 300")).ShouldBe(2);
        (await f.ScalarAsync("SELECT count(*) FROM events")).ShouldBe(2);
    }

    [Fact]
    public async Task Write_SameBodyTwice_StoresItOnceAndMarksTruncation()
    {
        await using var f = await PgStore.OpenAsync(fixture.Server, new PayloadOptions { MaxBodyBytes = 2048, TruncatedHeadBytes = 256 });
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", Cancel);
        var prompt = RawJson.FromString(new string('x', 1000));
        var huge = RawJson.FromString(new string('y', 10_000));
        var a = Guid.NewGuid();
        await f.WriteAsync(project.Id, [new RunWrite { Id = a, Input = prompt, Output = huge }, new RunWrite { Id = Guid.NewGuid(), Input = prompt }]);
        await f.WriteAsync(project.Id, [new RunWrite { Id = Guid.NewGuid(), Input = prompt }]);

        (await f.ScalarAsync("SELECT count(*) FROM payloads")).ShouldBe(2);
        var run = (await f.Store.Reader.GetRunAsync(project.Id, a, Cancel))!.Run;
        run.Input!.Text.ShouldBe(prompt.Text);
        run.OutputInfo!.Truncated.ShouldBeTrue();
        run.OutputInfo.OriginalBytes.ShouldBe(10_002);
        PayloadCodec.IsTruncationMarker(run.Output!.Text).ShouldBeTrue();
    }

    [Fact]
    public async Task Events_IdempotencyKeyAndOrder_AreKeptAcrossBatches()
    {
        await using var f = await PgStore.OpenAsync(fixture.Server);
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", Cancel);
        var first = await f.WriteAsync(project.Id, events: [
            new EventWrite { Type = "a", Time = Day, IdempotencyKey = "k1" },
            new EventWrite { Type = "b", Time = Day.AddDays(40), IdempotencyKey = "k1" },
            new EventWrite { Type = "c", Time = Day.AddDays(-40) },
        ]);
        var second = await f.WriteAsync(project.Id, events: [new EventWrite { Type = "d", Time = Day, IdempotencyKey = "k1" }, new EventWrite { Type = "e", Time = Day }]);

        first.Written.ShouldBe(3);
        second.Written.ShouldBe(2);
        var events = await f.Store.Reader.ReadEventsAsync(project.Id, 0, null, 100, Cancel);
        events.Select(e => e.Type).ShouldBe(["a", "c", "e"], "ordered by id whatever the month; duplicate keys ignored");
        events.Select(e => e.Id).ShouldBeInOrder(SortDirection.Ascending);
        second.LastEventId.ShouldBe(events[^1].Id);
        (await f.Store.Reader.GetLastEventIdAsync(project.Id, Cancel)).ShouldBe(events[^1].Id);
        (await f.Store.Reader.ReadEventsAsync(project.Id, -1, null, 2, Cancel)).Select(e => e.Type).ShouldBe(["c", "e"]);
    }

    [Fact]
    public async Task Write_NotifiesTheEventsChannelAtCommit()
    {
        await using var f = await PgStore.OpenAsync(fixture.Server);
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", Cancel);
        await using var listener = new NpgsqlConnection(f.ConnectionString);
        await listener.OpenAsync(Cancel);
        var received = new List<string>();
        listener.Notification += (_, e) => { lock (received) { received.Add(e.Payload); } };
        await using (var listen = new NpgsqlCommand($"LISTEN {PostgresLedgerStore.EventsChannel}", listener))
        {
            await listen.ExecuteNonQueryAsync(Cancel);
        }

        var outcome = await f.WriteAsync(project.Id, [new RunWrite { Id = Guid.NewGuid(), StartedAt = Day }]);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        await listener.WaitAsync(timeout.Token);
        received.ShouldBe([$"{project.Id}:{outcome.LastEventId}"]);
        outcome.LastEventId.ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task Events_TwoReplicasWriting_BecomeVisibleInIdOrder()
    {
        await using var f = await PgStore.OpenAsync(fixture.Server);
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", Cancel);
        await using var replica = PgStore.Create(f.ConnectionString);
        await replica.InitializeAsync(Cancel);

        // A reader that resumes with "id > last seen" must end with every id: none may appear
        // after a higher one was read.
        using var stop = new CancellationTokenSource();
        var seen = new List<long>();
        var reader = Task.Run(async () =>
        {
            long last = 0;
            while (true)
            {
                var done = stop.IsCancellationRequested;
                foreach (var e in await f.Store.Reader.ReadEventsAsync(project.Id, last, null, 1000, Cancel))
                {
                    seen.Add(e.Id);
                    last = e.Id;
                }

                if (done)
                {
                    return;
                }
            }
        }, Cancel);

        async Task WriteMany(PostgresLedgerStore store, string type)
        {
            for (var i = 0; i < 40; i++)
            {
                await PgStore.WriteWithAsync(store, project.Id, events: Enumerable.Range(0, 5).Select(_ => new EventWrite { Type = type, Time = Day }).ToArray());
            }
        }

        await Task.WhenAll(WriteMany(f.Store, "a"), WriteMany(replica, "b"));
        await stop.CancelAsync();
        await reader;

        var all = (await f.Store.Reader.ReadEventsAsync(project.Id, 0, null, 10_000, Cancel)).Select(e => e.Id).ToList();
        all.Count.ShouldBe(400);
        seen.ShouldBe(all);
    }

    [Fact]
    public void Describe_NeverShowsThePassword()
    {
        var store = new PostgresLedgerStore("postgres://alice:s3cr%40t@db.example:6543/ledger?sslmode=require", new PostgresStoreOptions(), new PayloadOptions(), TimeProvider.System);
        store.Describe().ShouldBe("postgres://alice@db.example:6543/ledger");
        store.Describe().ShouldNotContain("s3cr");
        var builder = new NpgsqlConnectionStringBuilder(store.ConnectionString);
        builder.Password.ShouldBe("s3cr@t");
        builder.SslMode.ShouldBe(SslMode.Require);
        builder.Database.ShouldBe("ledger");
        new PostgresLedgerStore("Host=h;Database=d;Username=u;Password=pw", new PostgresStoreOptions(), new PayloadOptions(), TimeProvider.System)
            .Describe().ShouldNotContain("pw");
    }

    [Fact]
    public void ConnectionString_BadUrlParameter_SaysWhichOne()
    {
        var error = Should.Throw<FormatException>(() => PostgresConnectionStrings.Normalize("postgres://h/db?sslmode=sometimes"));
        error.Message.ShouldContain("sslmode=sometimes");
    }
}
