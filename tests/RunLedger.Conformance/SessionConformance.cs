using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Storage;

namespace RunLedger.Conformance;

/// <summary>Sessions: writes, running totals kept with the runs, and the session detail.</summary>
public abstract class SessionConformance : StoreConformance
{
    [Fact]
    public async Task Totals_FollowEveryRunUpdate()
    {
        var (store, project) = await OpenWithProjectAsync();
        var a = NewId();
        var b = NewId();
        await WriteAsync(store, project, [
            new RunWrite { Id = a, SessionId = "s", StartedAt = Now.AddMinutes(-10), Usage = new Usage { InputTokens = 10, OutputTokens = 1 }, CostUsd = 0.001m },
            new RunWrite { Id = b, SessionId = "s", StartedAt = Now.AddMinutes(-5) },
        ]);
        await WriteAsync(store, project, [
            new RunWrite { Id = a, Status = RunStatus.Failed, EndedAt = Now.AddMinutes(-9), Usage = new Usage { InputTokens = 15 }, CostUsd = 0.0025m },
            new RunWrite { Id = b, Status = RunStatus.Timeout, EndedAt = Now, Usage = new Usage { OutputTokens = 7 }, CostUsd = 0.000000001m },
        ]);
        await WriteAsync(store, project, [new RunWrite { Id = a, Status = RunStatus.Succeeded }]);

        var session = await GetSessionAsync(store, project, "s");
        session.RunCount.ShouldBe(2);
        session.FailedCount.ShouldBe(1, "the timed-out run counts as failed; the run that failed and then succeeded does not");
        session.InputTokens.ShouldBe(15);
        session.OutputTokens.ShouldBe(8);
        session.CostUsd.ShouldBe(0.002500001m);
        session.LastRunAt.ShouldBe(Now.AddMinutes(-5));
        session.State.ShouldBe("active");
        session.StartedAt.ShouldBe(Now.AddMinutes(-10));
    }

    [Fact]
    public async Task Totals_RunMovedToAnotherSession_MoveWithIt()
    {
        var (store, project) = await OpenWithProjectAsync();
        var id = NewId();
        await WriteAsync(store, project, [new RunWrite { Id = id, SessionId = "a", Usage = new Usage { InputTokens = 5 }, CostUsd = 1m, Status = RunStatus.Failed, StartedAt = Now, EndedAt = Now }]);
        await WriteAsync(store, project, [new RunWrite { Id = id, SessionId = "b" }]);

        var a = await GetSessionAsync(store, project, "a");
        var b = await GetSessionAsync(store, project, "b");
        (a.RunCount, a.FailedCount, a.InputTokens, a.CostUsd).ShouldBe((0L, 0L, 0L, 0m));
        (b.RunCount, b.FailedCount, b.InputTokens, b.CostUsd).ShouldBe((1L, 1L, 5L, 1m));
    }

    [Fact]
    public async Task Write_OmittedFieldsKeepStoredValues_AndAnEndedStateSetsTheEnd()
    {
        var (store, project) = await OpenWithProjectAsync();
        await WriteAsync(store, project, sessions: [new SessionWrite { Id = "s", Name = "nightly", StartedAt = Now.AddHours(-3), Metadata = RawJson.Parse("{\"persona\":\"buyer\"}") }]);
        var open = await GetSessionAsync(store, project, "s");
        open.State.ShouldBe("active");
        open.EndedAt.ShouldBeNull();

        await WriteAsync(store, project, sessions: [new SessionWrite { Id = "s", State = "completed" }], receivedAt: Now.AddMinutes(-1));

        var closed = await GetSessionAsync(store, project, "s");
        closed.Name.ShouldBe("nightly");
        closed.Metadata!.Text.ShouldBe("{\"persona\":\"buyer\"}");
        closed.StartedAt.ShouldBe(Now.AddHours(-3));
        closed.State.ShouldBe("completed");
        closed.EndedAt.ShouldBe(Now.AddMinutes(-1));
        closed.CreatedAt.ShouldBe(Now);
    }

    [Fact]
    public async Task Write_NewSessionWithAnEnd_IsCompleted()
    {
        var (store, project) = await OpenWithProjectAsync();
        await WriteAsync(store, project, sessions: [new SessionWrite { Id = "s", StartedAt = Now.AddHours(-1), EndedAt = Now }]);
        var session = await GetSessionAsync(store, project, "s");
        session.State.ShouldBe("completed");
        session.EndedAt.ShouldBe(Now);
    }

    [Fact]
    public async Task Write_EndBeforeStart_IsRejected()
    {
        var (store, project) = await OpenWithProjectAsync();
        await WriteAsync(store, project, sessions: [new SessionWrite { Id = "s", StartedAt = Now }]);
        var outcome = await WriteAsync(store, project, sessions: [new SessionWrite { Id = "s", EndedAt = Now.AddHours(-1) }]);
        outcome.Rejected.Single().Kind.ShouldBe("session");
        (await GetSessionAsync(store, project, "s")).EndedAt.ShouldBeNull();
    }

    [Fact]
    public async Task Detail_ListsTopLevelRunsNewestFirst_AndCountsEveryRunByStatus()
    {
        var (store, project) = await OpenWithProjectAsync();
        var older = NewId(Now.AddMinutes(-3));
        var newer = NewId(Now.AddMinutes(-2));
        var child = NewId(Now.AddMinutes(-1));
        await WriteAsync(store, project, [
            new RunWrite { Id = older, SessionId = "s", StartedAt = Now.AddMinutes(-3), EndedAt = Now, Status = RunStatus.Failed },
            new RunWrite { Id = newer, SessionId = "s", StartedAt = Now.AddMinutes(-2) },
            new RunWrite { Id = child, SessionId = "s", ParentId = newer, StartedAt = Now.AddMinutes(-1), EndedAt = Now },
        ]);

        var detail = (await store.Reader.GetSessionAsync(project, "s", Ct))!;
        detail.Runs.Select(r => r.Id).ShouldBe([newer, older]);
        detail.RunsByStatus.OrderBy(s => s.Status, StringComparer.Ordinal).ShouldBe([new StatusCount("failed", 1), new StatusCount("running", 1), new StatusCount("succeeded", 1)]);
        detail.Session.RunCount.ShouldBe(3);
        (await store.Reader.GetSessionAsync(project, "missing", Ct)).ShouldBeNull();
    }

    [Fact]
    public async Task Detail_PagesThroughTopLevelRuns_EachOnceNewestFirst()
    {
        // Seven top-level runs (two starting at the same microsecond, so the id breaks the tie)
        // with a child each; pages of three.
        var (store, project) = await OpenWithProjectAsync();
        var starts = new[] { -9, -8, -7, -7, -5, -4, -3 }.Select(m => Now.AddMinutes(m)).ToArray();
        var roots = starts.Select((t, i) => (Id: NewId(t), Start: t, Failed: i % 3 == 0)).ToList();
        await WriteAsync(store, project, [
            .. roots.Select(r => new RunWrite { Id = r.Id, SessionId = "s", StartedAt = r.Start, EndedAt = Now, Status = r.Failed ? RunStatus.Failed : RunStatus.Succeeded }),
            .. roots.Select(r => new RunWrite { Id = NewId(r.Start.AddSeconds(1)), SessionId = "s", ParentId = r.Id, StartedAt = r.Start.AddSeconds(1), EndedAt = Now }),
        ]);
        var expected = roots.OrderByDescending(r => r.Start).ThenByDescending(r => r.Id.ToString("N"), StringComparer.Ordinal).Select(r => r.Id).ToList();

        var seen = new List<Guid>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = (await store.Reader.GetSessionAsync(project, "s", new SessionRunsQuery(3, cursor), Ct)).ShouldNotBeNull();
            page.Runs.Count.ShouldBeLessThanOrEqualTo(3);
            page.RunsByStatus.Sum(s => s.Count).ShouldBe(14, "the counts cover every run of the session on every page");
            page.Session.RunCount.ShouldBe(14);
            seen.AddRange(page.Runs.Select(r => r.Id));
            cursor = page.NextCursor;
            pages++;
        }
        while (cursor is not null);

        seen.ShouldBe(expected);
        pages.ShouldBe(3);
        var first = (await store.Reader.GetSessionAsync(project, "s", Ct)).ShouldNotBeNull();
        first.Runs.Count.ShouldBe(7);
        first.NextCursor.ShouldBeNull("the default page holds all seven");
        var exact = (await store.Reader.GetSessionAsync(project, "s", new SessionRunsQuery(7), Ct)).ShouldNotBeNull();
        exact.NextCursor.ShouldBeNull("no cursor when nothing is left");
        await Should.ThrowAsync<FormatException>(() => store.Reader.GetSessionAsync(project, "s", new SessionRunsQuery(3, "not-a-cursor"), Ct));

        // A cursor of the sessions listing (a session id where a run id belongs) or of the wrong
        // length is refused alike by every store, not read as some position.
        foreach (var length in new[] { 3, 15, 17 })
        {
            var foreign = Cursors.Encode(1, new byte[length]);
            await Should.ThrowAsync<FormatException>(() => store.Reader.GetSessionAsync(project, "s", new SessionRunsQuery(3, foreign), Ct));
            await Should.ThrowAsync<FormatException>(() => store.Reader.QueryRunsAsync(project, new RunQuery(null, 3, foreign), Ct));
        }

        Should.Throw<ArgumentOutOfRangeException>(() => new SessionRunsQuery(0));
    }
}
