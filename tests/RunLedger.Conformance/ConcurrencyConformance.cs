using System.Globalization;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Query;
using RunLedger.Core.Storage;

namespace RunLedger.Conformance;

/// <summary>
/// Reads while writes commit, and two store instances (two processes or server replicas) writing
/// to the same database at once: every commit is seen whole or not at all, ids stay unique and
/// totals add up.
/// </summary>
public abstract class ConcurrencyConformance : StoreConformance
{
    private const int Groups = 30;
    private const int RunsPerBatch = 20;

    [Fact]
    public async Task Readers_DuringWrites_SeeWholeCommitsOnly()
    {
        var (store, project) = await OpenWithProjectAsync();
        var writing = Task.Run(async () =>
        {
            for (var g = 0; g < Groups; g++)
            {
                var session = "b" + g.ToString(CultureInfo.InvariantCulture);
                var runs = Enumerable.Range(0, RunsPerBatch).Select(i => new RunWrite { Id = NewId(), SessionId = session, StartedAt = Now.AddMinutes(-i), EndedAt = Now, Usage = new Usage { InputTokens = 1 } }).ToList();
                await WriteAsync(store, project, runs, events: [new EventWrite { Type = "batch.done", Time = Now, SessionId = session }]);
            }
        });

        var lastCount = 0L;
        var lastEventId = 0L;
        var reads = 0;
        while (!writing.IsCompleted || reads < 3)
        {
            reads++;
            var stats = await store.Reader.GetStatsAsync(project, new StatsQuery(null, ["session"], null, Today, Today.AddDays(1), false), Ct);
            stats.Total.Count.ShouldBeGreaterThanOrEqualTo(lastCount, "a count never goes back");
            (stats.Total.Count % RunsPerBatch).ShouldBe(0, "a batch is seen whole or not at all");
            stats.Groups.ShouldAllBe(g => g.Figures.Count == RunsPerBatch);
            stats.Groups.Sum(g => g.Figures.Count).ShouldBe(stats.Total.Count);
            lastCount = stats.Total.Count;

            var events = await store.Reader.ReadEventsAsync(project, lastEventId, FilterParser.Parse("type:batch.done", FilterTarget.Events), 1000, Ct);
            foreach (var e in events)
            {
                e.Id.ShouldBeGreaterThan(lastEventId, "events are read once, in order");
                lastEventId = e.Id;

                // The batch's runs were committed with its event.
                var session = await GetSessionAsync(store, project, e.SessionId!);
                session.RunCount.ShouldBe(RunsPerBatch);
                session.InputTokens.ShouldBe(RunsPerBatch);
            }

            var page = await store.Reader.QueryRunsAsync(project, new RunQuery(FilterParser.Parse("tokens>0", FilterTarget.Runs), 50, null), Ct);
            page.Items.Select(r => r.Id).Distinct().Count().ShouldBe(page.Items.Count);
        }

        await writing;
        (await AllRunsAsync(store, project)).Count.ShouldBe(Groups * RunsPerBatch);
        (await store.Reader.ReadEventsAsync(project, 0, FilterParser.Parse("type:batch.done", FilterTarget.Events), 1000, Ct)).Count.ShouldBe(Groups);
    }

    [Fact]
    public async Task TwoInstances_WritingAtOnce_KeepIdsUniqueAndTotalsExact()
    {
        var (first, project) = await OpenWithProjectAsync();
        var second = await OpenStoreAsync();
        (await second.Admin.GetOrCreateProjectAsync("p", Ct)).Id.ShouldBe(project);

        var shared = Enumerable.Range(0, RunsPerBatch).Select(_ => NewId(Now.AddHours(-1))).ToArray();
        await WriteAsync(first, project, shared.Select(id => new RunWrite { Id = id, SessionId = "shared", StartedAt = Now.AddHours(-1) }).ToList());

        async Task<List<long>> WriteMany(ILedgerStore store, string name)
        {
            var lastIds = new List<long>();
            for (var g = 0; g < Groups; g++)
            {
                var runs = Enumerable.Range(0, RunsPerBatch).Select(i => new RunWrite
                {
                    Id = NewId(),
                    Name = name,
                    SessionId = "shared",
                    StartedAt = Now.AddSeconds(-i),
                    EndedAt = Now,
                    Usage = new Usage { InputTokens = 1, OutputTokens = 2 },
                    CostUsd = 0.001m,
                }).ToList();

                // Both instances also update the same runs: each adds one output token to a run.
                runs.Add(new RunWrite { Id = shared[g % shared.Length], Usage = new Usage { OutputTokens = g } });
                var results = await store.Writer.WriteAsync([Batch(project, runs, events: [new EventWrite { Type = "tick", Time = Now, Name = name }])], Ct);
                results.Single().Error.ShouldBeNull();
                lastIds.Add(results.Single().Outcome!.LastEventId);
            }

            return lastIds;
        }

        var startTail = await first.Reader.GetLastEventIdAsync(project, Ct);
        var writers = Task.WhenAll(Task.Run(() => WriteMany(first, "one")), Task.Run(() => WriteMany(second, "two")));

        // A live reader tails the log by last event id while both write, as the SSE stream does:
        // it must end up with every event exactly once (ids are visible in commit order, no gaps).
        var tailed = new List<long>();
        var tail = startTail;
        while (true)
        {
            var done = writers.IsCompleted;
            var page = await second.Reader.ReadEventsAsync(project, tail, null, 100, Ct);
            tailed.AddRange(page.Select(e => e.Id));
            tail = page.Count > 0 ? page[^1].Id : tail;
            if (done && page.Count == 0)
            {
                break;
            }
        }

        var both = await writers;

        both.SelectMany(ids => ids).Distinct().Count().ShouldBe(2 * Groups, "every commit gets its own event ids");
        var events = new List<LedgerEvent>();
        var after = 0L;
        while (true)
        {
            var page = await first.Reader.ReadEventsAsync(project, after, null, 500, Ct);
            if (page.Count == 0)
            {
                break;
            }

            events.AddRange(page);
            after = page[^1].Id;
        }

        events.Select(e => e.Id).Distinct().Count().ShouldBe(events.Count);
        tailed.ShouldBe(events.Select(e => e.Id).Where(id => id > startTail).ToList(), "the live reader saw every event once, in order");
        events.Count(e => e.Type == "tick").ShouldBe(2 * Groups);
        (await second.Reader.GetLastEventIdAsync(project, Ct)).ShouldBe(events[^1].Id);

        var runs = await AllRunsAsync(second, project);
        runs.Count.ShouldBe((2 * Groups * RunsPerBatch) + shared.Length);
        runs.Count(r => r.Name == "one").ShouldBe(Groups * RunsPerBatch);
        var session = await GetSessionAsync(first, project, "shared");
        session.RunCount.ShouldBe(runs.Count);
        session.InputTokens.ShouldBe(2 * Groups * RunsPerBatch);
        session.OutputTokens.ShouldBe(runs.Sum(r => r.Usage.OutputTokens ?? 0));
        session.CostUsd.ShouldBe(2 * Groups * RunsPerBatch * 0.001m);

        var stats = await first.Reader.GetStatsAsync(project, new StatsQuery(null, ["name"], null, Today, Today.AddDays(1), false), Ct);
        stats.Total.Count.ShouldBe(runs.Count);
        stats.Total.OutputTokens.ShouldBe(session.OutputTokens);
        stats.Groups.Single(g => g.Key["name"] == "two").Figures.Count.ShouldBe(Groups * RunsPerBatch);
    }
}
