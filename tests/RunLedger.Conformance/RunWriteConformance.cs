using System.Security.Cryptography;
using System.Text;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Payloads;
using RunLedger.Core.Query;
using RunLedger.Core.Storage;

namespace RunLedger.Conformance;

/// <summary>
/// Run writes through <see cref="ILedgerWriter"/>: upserts, inference of kind, status and start,
/// rejections, run trees, bodies and payload limits, batch isolation and durability across reopen.
/// </summary>
public abstract class RunWriteConformance : StoreConformance
{
    [Fact]
    public async Task Upsert_OmittedFields_KeepStoredValues()
    {
        var (store, project) = await OpenWithProjectAsync();
        var id = NewId();
        var started = Now.AddHours(-1);
        await WriteAsync(store, project, [new RunWrite
        {
            Id = id, Kind = RunKind.Llm, Name = "plan", Model = "gpt-4o", Provider = "openai", StartedAt = started,
            Input = RawJson.FromString("question"), SessionId = "s", Tags = ["nightly", "eval"], UserId = "alice",
            Parameters = RawJson.Parse("{\"temperature\":0.2}"), Metadata = RawJson.Parse("{\"repository\":\"acme/web\"}"),
        }]);
        await WriteAsync(store, project, [new RunWrite
        {
            Id = id, Status = RunStatus.Failed, EndedAt = started.AddSeconds(3), Output = RawJson.Parse("{\"a\":1}"),
            Usage = new Usage { InputTokens = 10, OutputTokens = 4 }, CostUsd = 0.25m, Error = new RunError { Type = "RateLimitError", Message = "slow down" },
        }]);

        var detail = await GetRunAsync(store, project, id);
        var run = detail.Run;
        run.Kind.ShouldBe("llm");
        run.Name.ShouldBe("plan");
        run.Model.ShouldBe("gpt-4o");
        run.Provider.ShouldBe("openai");
        run.SessionId.ShouldBe("s");
        run.UserId.ShouldBe("alice");
        run.Tags.ShouldBe(["nightly", "eval"]);
        run.Parameters!.Text.ShouldBe("{\"temperature\":0.2}");
        run.Metadata!.Text.ShouldBe("{\"repository\":\"acme/web\"}");
        run.Status.ShouldBe("failed");
        run.StartedAt.ShouldBe(started);
        run.EndedAt.ShouldBe(started.AddSeconds(3));
        run.DurationMs.ShouldBe(3000);
        run.Input!.Text.ShouldBe("\"question\"");
        run.Output!.Text.ShouldBe("{\"a\":1}");
        run.Usage.InputTokens.ShouldBe(10);
        run.Usage.OutputTokens.ShouldBe(4);
        run.CostUsd.ShouldBe(0.25m);
        run.Error.ShouldBe(new RunError { Type = "RateLimitError", Message = "slow down" });
        run.Source.ShouldBe("api");
        (await AllRunsAsync(store, project)).Select(r => r.Id).ShouldBe([id]);

        // An empty tag list is sent, so it clears the tags; null fields still keep theirs.
        await WriteAsync(store, project, [new RunWrite { Id = id, Tags = [] }]);
        var cleared = (await GetRunAsync(store, project, id)).Run;
        cleared.Tags.ShouldBeEmpty();
        cleared.Model.ShouldBe("gpt-4o");
    }

    [Fact]
    public async Task Upsert_PartialUsageAndError_KeepTheOtherParts()
    {
        var (store, project) = await OpenWithProjectAsync();
        var id = NewId();
        await WriteAsync(store, project, [new RunWrite
        {
            Id = id, StartedAt = Now, Usage = new Usage { InputTokens = 7, CachedTokens = 3 }, Error = new RunError { Type = "E", Stack = "at x" },
        }]);
        await WriteAsync(store, project, [new RunWrite { Id = id, Usage = new Usage { OutputTokens = 5, ReasoningTokens = 2 }, Error = new RunError { Message = "boom" } }]);

        var run = (await GetRunAsync(store, project, id)).Run;
        run.Usage.ShouldBe(new Usage { InputTokens = 7, OutputTokens = 5, CachedTokens = 3, ReasoningTokens = 2 });
        run.Error.ShouldBe(new RunError { Type = "E", Message = "boom", Stack = "at x" });
    }

    [Fact]
    public async Task NewRun_WithoutKind_IsLlmWhenItHasAModelElseCustom()
    {
        var (store, project) = await OpenWithProjectAsync();
        var withModel = NewId();
        var withoutModel = NewId();
        var explicitKind = NewId();
        await WriteAsync(store, project, [
            new RunWrite { Id = withModel, Model = "gpt-4o" },
            new RunWrite { Id = withoutModel, Name = "step" },
            new RunWrite { Id = explicitKind, Kind = RunKind.Tool, Model = "gpt-4o" },
        ]);

        (await GetRunAsync(store, project, withModel)).Run.Kind.ShouldBe("llm");
        (await GetRunAsync(store, project, withoutModel)).Run.Kind.ShouldBe("custom");
        (await GetRunAsync(store, project, explicitKind)).Run.Kind.ShouldBe("tool");
    }

    [Fact]
    public async Task NewRun_WithoutStart_StartsWhenReceivedOrAtItsEndIfEarlier()
    {
        var (store, project) = await OpenWithProjectAsync();
        var received = Now.AddMinutes(-5);
        var plain = NewId();
        var endedEarlier = NewId();
        await WriteAsync(store, project, [new RunWrite { Id = plain }, new RunWrite { Id = endedEarlier, EndedAt = received.AddMinutes(-10) }], receivedAt: received);

        var first = (await GetRunAsync(store, project, plain)).Run;
        first.StartedAt.ShouldBe(received);
        first.Status.ShouldBe("running");
        first.EndedAt.ShouldBeNull();
        first.DurationMs.ShouldBeNull();
        var second = (await GetRunAsync(store, project, endedEarlier)).Run;
        second.StartedAt.ShouldBe(received.AddMinutes(-10));
        second.DurationMs.ShouldBe(0);
    }

    [Fact]
    public async Task Update_EndWithoutStatus_SucceedsOrFailsByItsError()
    {
        var (store, project) = await OpenWithProjectAsync();
        var ok = NewId();
        var bad = NewId();
        var start = Now.AddMinutes(-1);
        await WriteAsync(store, project, [new RunWrite { Id = ok, StartedAt = start }, new RunWrite { Id = bad, StartedAt = start }]);
        (await GetRunAsync(store, project, ok)).Run.Status.ShouldBe("running");

        await WriteAsync(store, project, [
            new RunWrite { Id = ok, EndedAt = start.AddMilliseconds(1500) },
            new RunWrite { Id = bad, EndedAt = start.AddSeconds(2), Error = new RunError { Message = "tool crashed" } },
        ]);

        var succeeded = (await GetRunAsync(store, project, ok)).Run;
        succeeded.Status.ShouldBe("succeeded");
        succeeded.DurationMs.ShouldBe(1500);
        (await GetRunAsync(store, project, bad)).Run.Status.ShouldBe("failed");
    }

    [Fact]
    public async Task Update_ExplicitStatus_WinsOverInference()
    {
        var (store, project) = await OpenWithProjectAsync();
        var id = NewId();
        await WriteAsync(store, project, [new RunWrite { Id = id, StartedAt = Now.AddSeconds(-30), EndedAt = Now, Status = RunStatus.Cancelled, Error = new RunError { Message = "stopped" } }]);
        (await GetRunAsync(store, project, id)).Run.Status.ShouldBe("cancelled");
        await WriteAsync(store, project, [new RunWrite { Id = id, Status = RunStatus.Partial }]);
        (await GetRunAsync(store, project, id)).Run.Status.ShouldBe("partial");
    }

    [Fact]
    public async Task Write_EndBeforeStoredStart_RejectsOnlyThatRun()
    {
        var (store, project) = await OpenWithProjectAsync();
        var id = NewId();
        await WriteAsync(store, project, [new RunWrite { Id = id, StartedAt = Now.AddHours(-5) }]);
        var good = NewId();

        var outcome = await WriteAsync(store, project, [new RunWrite { Id = id, EndedAt = Now.AddHours(-6), Index = 0 }, new RunWrite { Id = good, StartedAt = Now, Index = 1 }]);

        outcome.Rejected.Count.ShouldBe(1);
        outcome.Rejected[0].Index.ShouldBe(0);
        outcome.Rejected[0].Error.ShouldContain("endedAt");
        outcome.Written.ShouldBe(1);
        (await store.Reader.GetRunAsync(project, good, Ct)).ShouldNotBeNull();
        var kept = (await GetRunAsync(store, project, id)).Run;
        kept.EndedAt.ShouldBeNull();
        kept.Status.ShouldBe("running");
    }

    [Fact]
    public async Task Write_RunAsItsOwnParent_IsRejected()
    {
        var (store, project) = await OpenWithProjectAsync();
        var id = NewId();

        var outcome = await WriteAsync(store, project, [new RunWrite { Id = id, ParentId = id, Index = 3 }]);

        outcome.Rejected.Single().Index.ShouldBe(3);
        outcome.Rejected.Single().Error.ShouldContain("parent");
        (await store.Reader.GetRunAsync(project, id, Ct)).ShouldBeNull();
    }

    [Fact]
    public async Task RunTree_ChildrenNameTheirParent_AndDetailListsDirectChildrenOldestFirst()
    {
        var (store, project) = await OpenWithProjectAsync();
        var root = NewId(Now.AddMinutes(-10));
        var first = NewId(Now.AddMinutes(-9));
        var second = NewId(Now.AddMinutes(-8));
        var grandchild = NewId(Now.AddMinutes(-7));
        await WriteAsync(store, project, [
            new RunWrite { Id = root, Kind = RunKind.Pipeline, Name = "nightly", StartedAt = Now.AddMinutes(-10) },
            new RunWrite { Id = second, ParentId = root, Kind = RunKind.Step, Name = "b", StartedAt = Now.AddMinutes(-8) },
            new RunWrite { Id = first, ParentId = root, Kind = RunKind.Step, Name = "a", StartedAt = Now.AddMinutes(-9) },
        ]);
        await WriteAsync(store, project, [new RunWrite { Id = grandchild, ParentId = first, Kind = RunKind.Llm, StartedAt = Now.AddMinutes(-7) }]);

        var detail = await GetRunAsync(store, project, root);
        detail.Run.ParentId.ShouldBeNull();
        detail.Children.Select(c => c.Id).ShouldBe([first, second]);
        detail.Children.ShouldAllBe(c => c.ParentId == root);
        (await GetRunAsync(store, project, first)).Children.Select(c => c.Id).ShouldBe([grandchild]);
        (await GetRunAsync(store, project, grandchild)).Children.ShouldBeEmpty();
    }

    [Fact]
    public async Task Bodies_RoundTripByteForByte_WithSizeAndHash()
    {
        var (store, project) = await OpenWithProjectAsync();
        var id = NewId();
        var input = RawJson.Parse("{\"messages\":[{\"role\":\"user\",\"content\":\"Grüße, 日本語 and \\\"quotes\\\"\"}],\"n\":1.50}");
        var output = new RawJson("[1, 2,  3]");
        await WriteAsync(store, project, [new RunWrite { Id = id, StartedAt = Now, Input = input, Output = output }]);

        var run = (await GetRunAsync(store, project, id)).Run;
        run.Input!.Text.ShouldBe(input.Text);
        run.Output!.Text.ShouldBe("[1, 2,  3]");
        run.InputInfo.ShouldBe(new PayloadInfo(Encoding.UTF8.GetByteCount(input.Text), Sha256Hex(input.Text), false));
        run.OutputInfo.ShouldBe(new PayloadInfo(10, Sha256Hex("[1, 2,  3]"), false));

        var listed = (await store.Reader.QueryRunsAsync(project, new RunQuery(null, 10, null), Ct)).Items.Single();
        listed.Input.ShouldBeNull();
        var withBodies = (await store.Reader.QueryRunsAsync(project, new RunQuery(null, 10, null, IncludeBodies: true), Ct)).Items.Single();
        withBodies.Input!.Text.ShouldBe(input.Text);
        withBodies.Output!.Text.ShouldBe(output.Text);
    }

    [Fact]
    public async Task Bodies_LargeCompressibleBody_RoundTripsExactly()
    {
        var (store, project) = await OpenWithProjectAsync();
        var body = RawJson.FromString(string.Concat(Enumerable.Repeat("You are a careful assistant. ", 2000)));
        var a = NewId();
        var b = NewId();
        await WriteAsync(store, project, [new RunWrite { Id = a, Input = body }, new RunWrite { Id = b, Input = body, Output = body }]);

        var first = (await GetRunAsync(store, project, a)).Run;
        var second = (await GetRunAsync(store, project, b)).Run;
        first.Input!.Text.ShouldBe(body.Text);
        second.Input!.Text.ShouldBe(body.Text);
        second.Output!.Text.ShouldBe(body.Text);
        first.InputInfo!.Sha256.ShouldBe(Sha256Hex(body.Text));
        second.OutputInfo.ShouldBe(first.InputInfo);
    }

    [Fact]
    public async Task Bodies_OverTheLimit_AreReplacedByATruncationMarkerWithOriginalSizeAndHash()
    {
        var options = new PayloadOptions { MaxBodyBytes = 1000, TruncatedHeadBytes = 100 };
        var (store, project) = await OpenWithProjectAsync(options);
        var big = RawJson.FromString(new string('x', 5000));
        var small = RawJson.FromString(new string('y', 500));
        var id = NewId();
        await WriteAsync(store, project, [new RunWrite { Id = id, Input = big, Output = small }]);

        var run = (await GetRunAsync(store, project, id)).Run;
        TruncationMarker.TryParse(run.Input!.Text, out var marker).ShouldBeTrue(run.Input.Text);
        marker!.OriginalBytes.ShouldBe(5002);
        marker.Sha256.ShouldBe(Sha256Hex(big.Text));
        big.Text.ShouldStartWith(marker.Head);
        marker.Head.Length.ShouldBeLessThanOrEqualTo(100);
        run.InputInfo!.Truncated.ShouldBeTrue();
        run.InputInfo.OriginalBytes.ShouldBe(5002);
        run.InputInfo.Sha256.ShouldBe(Sha256Hex(big.Text));
        run.Output!.Text.ShouldBe(small.Text);
        run.OutputInfo!.Truncated.ShouldBeFalse();
    }

    [Fact]
    public async Task DamagedBody_RunDetailStillAnswers_AndSaysTheBodyIsUnreadable()
    {
        var (store, project) = await OpenWithProjectAsync();
        var id = NewId();
        var child = NewId(Now.AddSeconds(1));
        await WriteAsync(store, project,
        [
            new RunWrite
            {
                Id = id, Kind = RunKind.Llm, Name = "damaged", Model = "gpt-4o", StartedAt = Now, EndedAt = Now.AddSeconds(2),
                Input = RawJson.FromString("rotten words"), Output = RawJson.Parse("{\"answer\":\"kept\"}"),
                Usage = new Usage { InputTokens = 12, OutputTokens = 3 }, CostUsd = 0.5m, Error = new RunError { Type = "X", Message = "upstream exploded" },
            },
            new RunWrite { Id = child, ParentId = id, Kind = RunKind.Tool, Name = "lookup", StartedAt = Now.AddSeconds(1) },
        ]);

        // An encoding this version does not know (a newer version wrote it, or the byte rotted).
        // Picked by size (14 bytes; the output has 17), which both stores' payload rows hold, as they
        // refer to bodies differently (SQLite by row id, PostgreSQL by hash).
        await ExecuteSqlAsync("UPDATE payloads SET encoding = 99 WHERE original_size = 14");

        var detail = await GetRunAsync(store, project, id);
        var run = detail.Run;
        run.Input.ShouldBeNull();
        run.InputInfo.ShouldNotBeNull();
        run.InputInfo.Unreadable.ShouldBe("stored body could not be decoded: Unknown payload encoding 99.");
        run.InputInfo.Sha256.ShouldBe(Sha256Hex("\"rotten words\""));
        run.InputInfo.OriginalBytes.ShouldBe(Encoding.UTF8.GetByteCount("\"rotten words\""));
        run.Output!.Text.ShouldBe("{\"answer\":\"kept\"}");
        run.OutputInfo!.Unreadable.ShouldBeNull();
        run.Status.ShouldBe("failed");
        run.Usage.ShouldBe(new Usage { InputTokens = 12, OutputTokens = 3 });
        run.CostUsd.ShouldBe(0.5m);
        run.Error.ShouldBe(new RunError { Type = "X", Message = "upstream exploded" });
        detail.Children.Select(c => c.Id).ShouldBe([child]);
        detail.Events.ShouldContain(e => e.Type == "run.failed");

        // A listing with bodies reports it the same way instead of failing the page.
        var page = await store.Reader.QueryRunsAsync(project, new RunQuery(null, 10, null, IncludeBodies: true), Ct);
        var listed = page.Items.Single(r => r.Id == id);
        listed.Input.ShouldBeNull();
        listed.InputInfo!.Unreadable.ShouldBe(run.InputInfo.Unreadable);
        listed.Output!.Text.ShouldBe("{\"answer\":\"kept\"}");
    }

    [Fact]
    public async Task Bodies_OverTheLimit_AreSearchedByTheStoredHeadOnly()
    {
        var options = new PayloadOptions { MaxBodyBytes = 1000, TruncatedHeadBytes = 200 };
        var (store, project) = await OpenWithProjectAsync(options);
        var body = RawJson.FromString("headword " + string.Join(' ', Enumerable.Repeat("filler", 300)) + " tailword");
        var id = NewId();
        await WriteAsync(store, project, [new RunWrite { Id = id, Input = body }]);

        // The stored body keeps only its head, so the index must not know words past it: a
        // re-index from the stored body (after a restart, an import) could not find them again.
        (await AllRunsAsync(store, project, FilterParser.Parse("headword", FilterTarget.Runs))).Select(r => r.Id).ShouldBe([id]);
        (await AllRunsAsync(store, project, FilterParser.Parse("tailword", FilterTarget.Runs))).ShouldBeEmpty();

        var reopened = await ReopenAsync(store, options);
        (await AllRunsAsync(reopened, project, FilterParser.Parse("headword", FilterTarget.Runs))).Select(r => r.Id).ShouldBe([id]);
        (await AllRunsAsync(reopened, project, FilterParser.Parse("tailword", FilterTarget.Runs))).ShouldBeEmpty();
    }

    [Fact]
    public async Task Group_FailingBatch_DoesNotSinkItsNeighbours()
    {
        var (store, project) = await OpenWithProjectAsync();
        var before = NewId();
        var inFailing = NewId();
        var after = NewId();
        var batches = new[]
        {
            Batch(project, runs: [new RunWrite { Id = before, StartedAt = Now, SessionId = "s" }]),
            FailingBatch(project, inFailing),
            Batch(project, runs: [new RunWrite { Id = after, StartedAt = Now, SessionId = "s" }]),
        };

        var results = await store.Writer.WriteAsync(batches, Ct);

        results.Count.ShouldBe(3);
        results[0].Error.ShouldBeNull();
        results[1].Error.ShouldNotBeNull();
        results[1].Outcome.ShouldBeNull();
        results[2].Error.ShouldBeNull();
        results[2].Outcome!.Written.ShouldBe(1);
        (await store.Reader.GetRunAsync(project, before, Ct)).ShouldNotBeNull();
        (await store.Reader.GetRunAsync(project, after, Ct)).ShouldNotBeNull();
        (await store.Reader.GetRunAsync(project, inFailing, Ct)).ShouldBeNull("a batch is all or nothing");
        (await store.Reader.GetSessionAsync(project, "failing", Ct)).ShouldBeNull("a batch is all or nothing");
        var events = await store.Reader.ReadEventsAsync(project, 0, null, 1000, Ct);
        events.ShouldNotContain(e => e.RunId == inFailing || e.SessionId == "failing" || e.Type == "failing.batch");
        (await GetSessionAsync(store, project, "s")).RunCount.ShouldBe(2);

        var stats = await store.Reader.GetStatsAsync(project, new StatsQuery(null, [], null, Today.AddDays(-1), Today.AddDays(1), false), Ct);
        stats.Total.Count.ShouldBe(2);
    }

    [Fact]
    public async Task Group_FailingBatchThatUpdatedARun_LeavesTheRunAsItsNeighboursWroteIt()
    {
        var (store, project) = await OpenWithProjectAsync();
        var id = NewId();
        var start = Now.AddMinutes(-30);
        var failing = FailingBatch(project, NewId());
        failing = failing with { Runs = [new RunWrite { Id = id, Status = RunStatus.Failed, EndedAt = start.AddMinutes(1), Model = "rolled-back", Usage = new Usage { InputTokens = 1000 } }, .. failing.Runs] };

        var results = await store.Writer.WriteAsync(
            [
                Batch(project, runs: [new RunWrite { Id = id, StartedAt = start, SessionId = "s", Model = "gpt-4o", Usage = new Usage { InputTokens = 10 } }]),
                failing,
                Batch(project, runs: [new RunWrite { Id = id, Status = RunStatus.Succeeded, EndedAt = start.AddSeconds(2), Usage = new Usage { OutputTokens = 5 } }]),
            ],
            Ct);

        results.Select(r => r.Succeeded).ShouldBe([true, false, true]);
        var run = (await GetRunAsync(store, project, id)).Run;
        run.Model.ShouldBe("gpt-4o");
        run.Status.ShouldBe("succeeded");
        run.DurationMs.ShouldBe(2000);
        run.Usage.InputTokens.ShouldBe(10);
        var session = await GetSessionAsync(store, project, "s");
        (session.RunCount, session.FailedCount, session.InputTokens, session.OutputTokens).ShouldBe((1L, 0L, 10L, 5L));
        (await GetRunAsync(store, project, id)).Events.Select(e => e.Type).ShouldBe([EventTypes.RunStarted, EventTypes.RunCompleted]);
        var stats = await store.Reader.GetStatsAsync(project, new StatsQuery(null, ["model", "status"], null, Today, Today.AddDays(1), false), Ct);
        stats.Source.ShouldBe("rollups");
        stats.Groups.Single().Key.ShouldBe(new Dictionary<string, string?> { ["model"] = "gpt-4o", ["status"] = "succeeded" });
        stats.Total.Count.ShouldBe(1);
        stats.Total.InputTokens.ShouldBe(10);
        stats.Total.MaxMs.ShouldBe(2000);
    }

    [Fact]
    public async Task Upsert_SameRunTwiceInOneBatch_IsOneRunWithBothWrites()
    {
        var (store, project) = await OpenWithProjectAsync();
        var id = NewId();
        var start = Now.AddMinutes(-1);

        await WriteAsync(store, project, [
            new RunWrite { Id = id, StartedAt = start, SessionId = "s", Name = "step", Model = "gpt-4o" },
            new RunWrite { Id = id, EndedAt = start.AddSeconds(4), Usage = new Usage { InputTokens = 3 } },
        ]);

        var detail = await GetRunAsync(store, project, id);
        detail.Run.Status.ShouldBe("succeeded");
        detail.Run.Name.ShouldBe("step");
        detail.Events.Select(e => e.Type).ShouldBe([EventTypes.RunStarted, EventTypes.RunCompleted]);
        (await AllRunsAsync(store, project)).Count.ShouldBe(1);
        var session = await GetSessionAsync(store, project, "s");
        (session.RunCount, session.InputTokens).ShouldBe((1L, 3L));
        var stats = await store.Reader.GetStatsAsync(project, new StatsQuery(null, ["status"], null, Today, Today.AddDays(1), false), Ct);
        stats.Groups.Single().Key["status"].ShouldBe("succeeded");
        stats.Total.Count.ShouldBe(1);
        stats.Total.P50Ms!.Value.ShouldBe(4000, 4000 * 0.01);
    }

    [Fact]
    public async Task Reopen_KeepsEverythingWritten()
    {
        var (store, project) = await OpenWithProjectAsync();
        var id = NewId();
        var outcome = await WriteAsync(store, project, [new RunWrite { Id = id, StartedAt = Now, Input = RawJson.FromString("kept"), SessionId = "s" }]);

        store = await ReopenAsync(store);

        (await GetRunAsync(store, project, id)).Run.Input!.Text.ShouldBe("\"kept\"");
        (await GetSessionAsync(store, project, "s")).RunCount.ShouldBe(1);
        (await store.Reader.GetLastEventIdAsync(project, Ct)).ShouldBe(outcome.LastEventId);
        (await store.Admin.FindProjectAsync("p", Ct))!.Id.ShouldBe(project);
        (await store.Reader.PingAsync(Ct)).ShouldBeTrue();
        var next = await WriteAsync(store, project, [new RunWrite { Id = NewId(), StartedAt = Now }]);
        next.LastEventId.ShouldBeGreaterThan(outcome.LastEventId);
    }

    [Fact]
    public async Task Timestamps_CreatedOnceUpdatedOnEveryWrite_FromTheStoreClock()
    {
        var (store, project) = await OpenWithProjectAsync();
        var id = NewId();
        await WriteAsync(store, project, [new RunWrite { Id = id, StartedAt = Now.AddDays(-3) }]);
        Clock.Advance(TimeSpan.FromMinutes(5));
        await WriteAsync(store, project, [new RunWrite { Id = id, Name = "renamed" }]);

        var run = (await GetRunAsync(store, project, id)).Run;
        run.CreatedAt.ShouldBe(Now);
        run.UpdatedAt.ShouldBe(Now.AddMinutes(5));
    }

    [Fact]
    public async Task Projects_AreIsolated()
    {
        var (store, a) = await OpenWithProjectAsync(project: "a");
        var b = (await store.Admin.GetOrCreateProjectAsync("b", Ct)).Id;
        var id = NewId();
        await WriteAsync(store, a, [new RunWrite { Id = id, StartedAt = Now, SessionId = "s" }], events: [new EventWrite { Type = "note", Time = Now }]);

        (await store.Reader.GetRunAsync(b, id, Ct)).ShouldBeNull();
        (await store.Reader.GetSessionAsync(b, "s", Ct)).ShouldBeNull();
        (await store.Reader.QueryRunsAsync(b, new RunQuery(null, 10, null), Ct)).Items.ShouldBeEmpty();
        (await store.Reader.QuerySessionsAsync(b, new SessionQuery(null, 10, null), Ct)).Items.ShouldBeEmpty();
        (await store.Reader.ReadEventsAsync(b, 0, null, 10, Ct)).ShouldBeEmpty();
        (await store.Reader.GetLastEventIdAsync(b, Ct)).ShouldBe(0);
        var stats = await store.Reader.GetStatsAsync(b, new StatsQuery(null, [], null, Today, Today.AddDays(1), false), Ct);
        stats.Total.Count.ShouldBe(0);

        // The same run id written to another project is another run.
        await WriteAsync(store, b, [new RunWrite { Id = id, StartedAt = Now, Name = "other" }]);
        (await GetRunAsync(store, b, id)).Run.Name.ShouldBe("other");
        (await GetRunAsync(store, a, id)).Run.Name.ShouldBeNull();
    }

    /// <summary>
    /// A batch the store must refuse as a whole: a session, an event and a good run, then a run
    /// whose cost cannot be stored (beyond the nano-dollar range of <see cref="StorageUnits"/>).
    /// A store with another failure mode may override this.
    /// </summary>
    protected virtual WriteBatch FailingBatch(long projectId, Guid goodRunInIt) => Batch(
        projectId,
        sessions: [new SessionWrite { Id = "failing" }],
        runs: [new RunWrite { Id = goodRunInIt, StartedAt = Now }, new RunWrite { Id = NewId(), StartedAt = Now, CostUsd = decimal.MaxValue / 2 }],
        events: [new EventWrite { Type = "failing.batch", Time = Now }]);

    protected static string Sha256Hex(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
