using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Query;
using RunLedger.Core.Storage;

namespace RunLedger.Conformance;

/// <summary>
/// The event log: lifecycle events written with their run, monotonic ids, idempotency keys and
/// <see cref="ILedgerReader.ReadEventsAsync"/> / <see cref="ILedgerReader.GetLastEventIdAsync"/>.
/// </summary>
public abstract class EventConformance : StoreConformance
{
    [Fact]
    public async Task Lifecycle_StartedThenCompleted_WritesOneEventPerStatusChange()
    {
        var (store, project) = await OpenWithProjectAsync();
        var id = NewId();
        var start = Now.AddMinutes(-2);
        var first = await WriteAsync(store, project, [new RunWrite { Id = id, Name = "plan", StartedAt = start, SessionId = "s" }]);
        var second = await WriteAsync(store, project, [new RunWrite { Id = id, Status = RunStatus.Succeeded, EndedAt = start.AddSeconds(5) }]);

        var detail = await GetRunAsync(store, project, id);
        detail.Events.Select(e => e.Type).ShouldBe([EventTypes.RunStarted, EventTypes.RunCompleted]);
        detail.Events.ShouldAllBe(e => e.RunId == id && e.SessionId == "s");
        detail.Events[0].Time.ShouldBe(start);
        detail.Events[1].Time.ShouldBe(start.AddSeconds(5));
        detail.Events[0].Id.ShouldBeLessThan(detail.Events[1].Id);
        first.LastEventId.ShouldBe(detail.Events[0].Id);
        second.LastEventId.ShouldBe(detail.Events[1].Id);
        (await store.Reader.GetLastEventIdAsync(project, Ct)).ShouldBe(second.LastEventId);
    }

    [Theory]
    [InlineData(RunStatus.Succeeded, EventTypes.RunCompleted)]
    [InlineData(RunStatus.Failed, EventTypes.RunFailed)]
    [InlineData(RunStatus.Timeout, EventTypes.RunTimeout)]
    [InlineData(RunStatus.Cancelled, EventTypes.RunCancelled)]
    [InlineData(RunStatus.Partial, EventTypes.RunPartial)]
    public async Task Lifecycle_RunFirstSeenFinished_WritesItsStatusEvent(RunStatus status, string type)
    {
        var (store, project) = await OpenWithProjectAsync();
        var id = NewId();
        await WriteAsync(store, project, [new RunWrite { Id = id, StartedAt = Now.AddSeconds(-3), EndedAt = Now, Status = status }]);

        var events = (await GetRunAsync(store, project, id)).Events;
        events.Select(e => e.Type).ShouldBe([type]);
        events[0].Time.ShouldBe(Now);
        events[0].Data.ShouldNotBeNull().Text.ShouldContain(id.ToString());
    }

    [Fact]
    public async Task Lifecycle_UpdateWithoutStatusChange_WritesRunUpdated()
    {
        var (store, project) = await OpenWithProjectAsync();
        var id = NewId();
        await WriteAsync(store, project, [new RunWrite { Id = id, StartedAt = Now.AddMinutes(-1) }]);
        await WriteAsync(store, project, [new RunWrite { Id = id, Usage = new Usage { InputTokens = 3 } }]);

        (await GetRunAsync(store, project, id)).Events.Select(e => e.Type).ShouldBe([EventTypes.RunStarted, EventTypes.RunUpdated]);
    }

    [Fact]
    public async Task Ids_AreMonotonicAcrossBatchesGroupsAndProjects()
    {
        var (store, a) = await OpenWithProjectAsync(project: "a");
        var b = (await store.Admin.GetOrCreateProjectAsync("b", Ct)).Id;
        var last = 0L;
        for (var i = 0; i < 5; i++)
        {
            var results = await store.Writer.WriteAsync(
                [
                    Batch(a, runs: [new RunWrite { Id = NewId(), StartedAt = Now }], events: [new EventWrite { Type = "note", Time = Now }]),
                    Batch(b, events: [new EventWrite { Type = "note", Time = Now }, new EventWrite { Type = "note", Time = Now.AddDays(-9) }]),
                ],
                Ct);
            results.ShouldAllBe(r => r.Succeeded);
            results[0].Outcome!.LastEventId.ShouldBeGreaterThan(last);
            results[1].Outcome!.LastEventId.ShouldBeGreaterThan(results[0].Outcome!.LastEventId);
            last = results[1].Outcome!.LastEventId;
        }

        var inA = await store.Reader.ReadEventsAsync(a, 0, null, 1000, Ct);
        var inB = await store.Reader.ReadEventsAsync(b, 0, null, 1000, Ct);
        inA.Count.ShouldBe(10);
        inB.Count.ShouldBe(10);
        inA.Select(e => e.Id).ShouldBe(inA.Select(e => e.Id).Order(), "events come oldest first");
        inA.Select(e => e.Id).Concat(inB.Select(e => e.Id)).Distinct().Count().ShouldBe(20);
        (await store.Reader.GetLastEventIdAsync(b, Ct)).ShouldBe(last);
        (await store.Reader.GetLastEventIdAsync(a, Ct)).ShouldBe(inA[^1].Id);
    }

    [Fact]
    public async Task ReadEvents_AfterIdAndLimit_PageThroughEveryEventOnce()
    {
        var (store, project) = await OpenWithProjectAsync();
        var written = new List<EventWrite>();
        for (var i = 0; i < 25; i++)
        {
            written.Add(new EventWrite { Type = i % 2 == 0 ? "heartbeat" : "user_feedback", Time = Now.AddSeconds(i), Name = "n" + i.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        }

        await WriteAsync(store, project, events: written);

        var seen = new List<LedgerEvent>();
        var after = 0L;
        while (true)
        {
            var page = await store.Reader.ReadEventsAsync(project, after, null, 7, Ct);
            if (page.Count == 0)
            {
                break;
            }

            page.Count.ShouldBeLessThanOrEqualTo(7);
            page.ShouldAllBe(e => e.Id > after);
            seen.AddRange(page);
            after = page[^1].Id;
        }

        seen.Select(e => e.Name).ShouldBe(written.Select(e => e.Name));
        seen.Select(e => e.Id).ShouldBe(seen.Select(e => e.Id).Order());

        var feedback = await store.Reader.ReadEventsAsync(project, 0, FilterParser.Parse("type:user_feedback", FilterTarget.Events), 100, Ct);
        feedback.Count.ShouldBe(12);
        feedback.ShouldAllBe(e => e.Type == "user_feedback");

        var afterTen = await store.Reader.ReadEventsAsync(project, seen[9].Id, FilterParser.Parse("type:heartbeat", FilterTarget.Events), 2, Ct);
        afterTen.Select(e => e.Name).ShouldBe(["n10", "n12"]);
    }

    [Fact]
    public async Task ReadEvents_NegativeAfterId_GivesTheNewestOldestFirst()
    {
        var (store, project) = await OpenWithProjectAsync();
        await WriteAsync(store, project, events: Enumerable.Range(0, 10).Select(i => new EventWrite { Type = "tick", Time = Now, Name = "t" + i.ToString(System.Globalization.CultureInfo.InvariantCulture) }).ToList());

        var newest = await store.Reader.ReadEventsAsync(project, -1, null, 3, Ct);

        newest.Select(e => e.Name).ShouldBe(["t7", "t8", "t9"]);
    }

    [Fact]
    public async Task Events_RoundTripTheirFields()
    {
        var (store, project) = await OpenWithProjectAsync();
        var runId = NewId();
        var data = new RawJson("{\"note\": \"Grüße\", \"n\": [1,2]}");
        await WriteAsync(store, project, events: [new EventWrite { Type = "intervention_request", Time = Now.AddMilliseconds(-1234), SessionId = "s", RunId = runId, Name = "approval", Data = data, IdempotencyKey = "k" }]);

        var e = (await store.Reader.ReadEventsAsync(project, 0, null, 10, Ct)).Single();
        e.Type.ShouldBe("intervention_request");
        e.Time.ShouldBe(Now.AddMilliseconds(-1234));
        e.SessionId.ShouldBe("s");
        e.RunId.ShouldBe(runId);
        e.Name.ShouldBe("approval");
        e.Data!.Text.ShouldBe(data.Text);
        e.IdempotencyKey.ShouldBe("k");
    }

    [Fact]
    public async Task Events_SameIdempotencyKey_StoredOnce()
    {
        var (store, project) = await OpenWithProjectAsync();
        var e = new EventWrite { Type = "heartbeat", Time = Now, IdempotencyKey = "k1", Data = RawJson.Parse("{\"n\":1}") };
        await WriteAsync(store, project, events: [e, e]);
        await WriteAsync(store, project, events: [e with { Data = RawJson.Parse("{\"n\":2}") }]);

        var stored = await store.Reader.ReadEventsAsync(project, 0, null, 10, Ct);
        stored.Count.ShouldBe(1);
        stored[0].Data!.Text.ShouldBe("{\"n\":1}");

        // The key is per project.
        var other = (await store.Admin.GetOrCreateProjectAsync("other", Ct)).Id;
        await WriteAsync(store, other, events: [e]);
        (await store.Reader.ReadEventsAsync(other, 0, null, 10, Ct)).Count.ShouldBe(1);
    }

    [Fact]
    public async Task LastEventId_IsZeroForAProjectWithoutEvents()
    {
        var (store, project) = await OpenWithProjectAsync();
        (await store.Reader.GetLastEventIdAsync(project, Ct)).ShouldBe(0);
        (await store.Reader.ReadEventsAsync(project, 0, null, 10, Ct)).ShouldBeEmpty();
        (await store.Reader.ReadEventsAsync(project, -1, null, 10, Ct)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Sessions_NewSessionNamedByARun_WritesSessionStarted()
    {
        var (store, project) = await OpenWithProjectAsync();
        await WriteAsync(store, project, [new RunWrite { Id = NewId(), StartedAt = Now.AddMinutes(-1), SessionId = "nightly" }]);

        var events = await store.Reader.ReadEventsAsync(project, 0, FilterParser.Parse("session:nightly", FilterTarget.Events), 10, Ct);
        events.Select(e => e.Type).ShouldBe([EventTypes.SessionStarted, EventTypes.RunStarted]);
    }
}
