using System.Globalization;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Query;
using RunLedger.Core.Storage;

namespace RunLedger.Conformance;

/// <summary>
/// Keyset pagination of the orders the contract offers: runs and sessions newest first (start
/// time descending, then id descending), events by id ascending (see <see cref="EventConformance"/>).
/// Pages never repeat or skip an item, also while writes happen between pages.
/// </summary>
public abstract class PaginationConformance : StoreConformance
{
    /// <summary>
    /// How the store orders session ids of sessions that started at the same time (text
    /// collation). Ordinal by default; a store whose text columns use a linguistic collation
    /// states its order here. Checked by <see cref="Collation_SessionIdsWithTiedStarts"/>.
    /// </summary>
    protected virtual StringComparer SessionIdOrder => StringComparer.Ordinal;

    [Fact]
    public async Task Runs_Pages_AreNewestFirstWithIdBreakingTies_NoDuplicatesNoGaps()
    {
        var (store, project) = await OpenWithProjectAsync();
        var random = new Random(11);
        var runs = new List<(Guid Id, DateTimeOffset Start)>();
        for (var i = 0; i < 237; i++)
        {
            // Few distinct start times, and random (not time-ordered) ids, so ties are common.
            runs.Add((Guid.NewGuid(), Now.AddMinutes(-random.Next(0, 20))));
        }

        foreach (var chunk in runs.Chunk(50))
        {
            await WriteAsync(store, project, chunk.Select(r => new RunWrite { Id = r.Id, StartedAt = r.Start }).ToList());
        }

        var expected = runs.OrderByDescending(r => r.Start).ThenByDescending(r => r.Id, IdOrder).Select(r => r.Id).ToList();
        foreach (var size in new[] { 1, 10, 236, 237, 1000 })
        {
            var pages = await PagesAsync(store, project, null, size);
            pages.SelectMany(p => p).ShouldBe(expected, $"page size {size}");
            pages.Take(pages.Count - 1).ShouldAllBe(p => p.Count == size);
        }
    }

    [Fact]
    public async Task Runs_LastPage_HasNoCursor_AndAnEmptyProjectHasOneEmptyPage()
    {
        var (store, project) = await OpenWithProjectAsync();
        var empty = await store.Reader.QueryRunsAsync(project, new RunQuery(null, 10, null), Ct);
        empty.Items.ShouldBeEmpty();
        empty.NextCursor.ShouldBeNull();

        await WriteAsync(store, project, Enumerable.Range(0, 4).Select(i => new RunWrite { Id = NewId(), StartedAt = Now.AddSeconds(-i) }).ToList());
        var first = await store.Reader.QueryRunsAsync(project, new RunQuery(null, 2, null), Ct);
        first.NextCursor.ShouldNotBeNull();
        var second = await store.Reader.QueryRunsAsync(project, new RunQuery(null, 2, first.NextCursor), Ct);
        second.Items.Count.ShouldBe(2);
        second.NextCursor.ShouldBeNull();
        var exact = await store.Reader.QueryRunsAsync(project, new RunQuery(null, 4, null), Ct);
        exact.NextCursor.ShouldBeNull();
    }

    [Fact]
    public async Task Runs_FilteredPages_CoverExactlyTheMatchingRuns()
    {
        var (store, project) = await OpenWithProjectAsync();
        var writes = Enumerable.Range(0, 120).Select(i => new RunWrite
        {
            Id = NewId(),
            StartedAt = Now.AddMinutes(-(i % 7)),
            Status = i % 3 == 0 ? RunStatus.Failed : RunStatus.Succeeded,
            EndedAt = Now,
            Model = i % 2 == 0 ? "gpt-4o" : "claude",
        }).ToList();
        await WriteAsync(store, project, writes);

        var filter = FilterParser.Parse("status:failed model:gpt-4o", FilterTarget.Runs);
        var pages = await PagesAsync(store, project, filter, 3);

        var expected = writes.Where(w => w.Status == RunStatus.Failed && w.Model == "gpt-4o")
            .OrderByDescending(w => w.StartedAt).ThenByDescending(w => w.Id, IdOrder).Select(w => w.Id);
        pages.SelectMany(p => p).ShouldBe(expected);
    }

    [Fact]
    public async Task Runs_PagesOfEveryIndexedFilter_BreakTiesById_AndChildrenComeInStartThenIdOrder()
    {
        // Three start times and random ids: most runs tie. Each filter a store may answer from an
        // index of its own (status, model, name, session, metadata, parent) pages in the same
        // order as the unfiltered list.
        var (store, project) = await OpenWithProjectAsync();
        var random = new Random(23);
        var parent = NewId(Now.AddMinutes(-10));
        var writes = Enumerable.Range(0, 45).Select(i => new RunWrite
        {
            Id = Guid.NewGuid(),
            StartedAt = Now.AddMinutes(-random.Next(0, 3)),
            EndedAt = Now,
            Status = RunStatus.Failed,
            Kind = RunKind.Llm,
            Name = "step",
            Model = "gpt-4o",
            SessionId = "tied",
            ParentId = parent,
            Metadata = new RawJson("{\"repository\":\"acme/api\"}"),
        }).ToList();
        await WriteAsync(store, project, [new RunWrite { Id = parent, StartedAt = Now.AddMinutes(-10), Name = "root" }]);
        foreach (var chunk in writes.Chunk(15))
        {
            await WriteAsync(store, project, chunk.ToList());
        }

        var expected = writes.OrderByDescending(w => w.StartedAt).ThenByDescending(w => w.Id, IdOrder).Select(w => w.Id).ToList();
        foreach (var text in new[] { "status:failed", "model:gpt-4o", "name:step", "session:tied", "metadata.repository:\"acme/api\"", "kind:llm" })
        {
            var pages = await PagesAsync(store, project, FilterParser.Parse(text, FilterTarget.Runs), 4);
            pages.SelectMany(p => p).ShouldBe(expected, text);
        }

        var detail = await GetRunAsync(store, project, parent);
        detail.Children.Select(c => c.Id).ShouldBe(writes.OrderBy(w => w.StartedAt).ThenBy(w => w.Id, IdOrder).Select(w => w.Id));
    }

    [Fact]
    public async Task Runs_WritesBetweenPages_NeitherRepeatNorSkipTheRunsThatWereThere()
    {
        var (store, project) = await OpenWithProjectAsync();
        var original = Enumerable.Range(0, 300).Select(i => new RunWrite { Id = NewId(), StartedAt = Now.AddSeconds(-(i / 3)), Name = "original" }).ToList();
        await WriteAsync(store, project, original);

        var seen = new List<Guid>();
        var newer = new List<Guid>();
        var older = new List<Guid>();
        string? cursor = null;
        var round = 0;
        do
        {
            var page = await store.Reader.QueryRunsAsync(project, new RunQuery(null, 25, cursor), Ct);
            seen.AddRange(page.Items.Select(r => r.Id));
            cursor = page.NextCursor;
            round++;

            // Between pages: a run newer than everything (above the cursor), updates that keep
            // the start of runs on both sides of the cursor, and a run far below the cursor.
            newer.Add(NewId());
            older.Add(NewId());
            await WriteAsync(store, project, [
                new RunWrite { Id = newer[^1], StartedAt = Now.AddMinutes(round), Name = "newer" },
                new RunWrite { Id = original[(round * 37) % original.Count].Id, Status = RunStatus.Succeeded, EndedAt = Now.AddHours(1) },
                new RunWrite { Id = original[(round * 53) % original.Count].Id, Name = "renamed" },
                new RunWrite { Id = older[^1], StartedAt = Now.AddDays(-1).AddSeconds(-round), Name = "older" },
            ]);
        }
        while (cursor is not null);

        seen.Distinct().Count().ShouldBe(seen.Count, "no run may appear twice");
        original.Select(r => r.Id).ShouldBeSubsetOf(seen);
        seen.ShouldNotContain(id => newer.Contains(id), "runs above the cursor are not in later pages");
        older.Take(older.Count - 1).ShouldBeSubsetOf(seen, "runs written below the cursor before it got there are in later pages");
        seen.Count.ShouldBe(original.Count + older.Count - 1);
    }

    [Fact]
    public async Task Runs_BadCursor_IsAFormatErrorSayingWhatToDo()
    {
        var (store, project) = await OpenWithProjectAsync();
        var error = await Should.ThrowAsync<FormatException>(() => store.Reader.QueryRunsAsync(project, new RunQuery(null, 10, "not-a-cursor!"), Ct));
        error.Message.ShouldContain("nextCursor");
        await Should.ThrowAsync<FormatException>(() => store.Reader.QuerySessionsAsync(project, new SessionQuery(null, 10, "AA"), Ct));
    }

    [Fact]
    public async Task Sessions_Pages_AreNewestFirst_NoDuplicatesNoGaps()
    {
        var (store, project) = await OpenWithProjectAsync();
        var sessions = Enumerable.Range(0, 83)
            .Select(i => new SessionWrite { Id = "s" + i.ToString("D4", CultureInfo.InvariantCulture), StartedAt = Now.AddMinutes(-(i % 9)) })
            .ToList();
        await WriteAsync(store, project, sessions: sessions);

        var expected = sessions.OrderByDescending(s => s.StartedAt).ThenByDescending(s => s.Id, StringComparer.Ordinal).Select(s => s.Id).ToList();
        foreach (var size in new[] { 1, 7, 83, 100 })
        {
            var seen = new List<string>();
            string? cursor = null;
            do
            {
                var page = await store.Reader.QuerySessionsAsync(project, new SessionQuery(null, size, cursor), Ct);
                page.Items.Count.ShouldBeLessThanOrEqualTo(size);
                seen.AddRange(page.Items.Select(s => s.Id));
                cursor = page.NextCursor;
            }
            while (cursor is not null);

            seen.ShouldBe(expected, $"page size {size}");
        }

        var filtered = await store.Reader.QuerySessionsAsync(project, new SessionQuery(FilterParser.Parse("started>-2m", FilterTarget.Sessions), 100, null), Ct);
        filtered.Items.Count.ShouldBe(sessions.Count(s => s.StartedAt > Now.AddMinutes(-2)));
    }

    [Fact]
    public async Task Sessions_WithoutAStartTime_ComeLastById_AndEveryPageBoundaryReachesThem()
    {
        // Only an import of a hand-made file leaves a session without a start time today; the
        // listing must still reach every one of them from any page boundary (a cursor once
        // encoded a missing time as epoch 0, which skipped them all).
        var (store, project) = await OpenWithProjectAsync();
        var sessions = Enumerable.Range(0, 23)
            .Select(i => new SessionWrite { Id = "n" + i.ToString("D2", CultureInfo.InvariantCulture), Name = i % 5 == 0 ? "other" : "batch", StartedAt = Now.AddMinutes(-(i % 4)) })
            .ToList();
        await WriteAsync(store, project, sessions: sessions);
        string[] untimed = ["n01", "n04", "n09", "n10", "n13", "n15", "n20", "n22"];
        await ExecuteSqlAsync($"UPDATE sessions SET started_at = NULL WHERE id IN ({string.Join(", ", untimed.Select(id => $"'{id}'"))})");

        foreach (var (filter, selected) in new (string? Filter, Func<SessionWrite, bool> Selected)[] { (null, _ => true), ("name:batch", s => s.Name == "batch") })
        {
            var timed = sessions.Where(s => selected(s) && !untimed.Contains(s.Id)).OrderByDescending(s => s.StartedAt).ThenByDescending(s => s.Id, SessionIdOrder).Select(s => s.Id);
            var expected = timed.Concat(untimed.Where(id => selected(sessions.Single(s => s.Id == id))).OrderByDescending(id => id, SessionIdOrder)).ToList();
            foreach (var size in new[] { 1, 2, 5, 14, 15, 16, 100 })
            {
                var seen = new List<string>();
                string? cursor = null;
                do
                {
                    var page = await store.Reader.QuerySessionsAsync(project, new SessionQuery(filter is null ? null : FilterParser.Parse(filter, FilterTarget.Sessions), size, cursor), Ct);
                    page.Items.Count.ShouldBeLessThanOrEqualTo(size);
                    seen.AddRange(page.Items.Select(s => s.Id));
                    cursor = page.NextCursor;
                }
                while (cursor is not null);

                seen.ShouldBe(expected, $"filter {filter ?? "(none)"}, page size {size}");
            }
        }
    }

    [Fact]
    public async Task Collation_SessionIdsWithTiedStarts()
    {
        var (store, project) = await OpenWithProjectAsync();
        string[] ids = ["b", "B", "a", "A", "a-2", "a1", "ä", "Z", "_x", "10", "9"];
        await WriteAsync(store, project, sessions: ids.Select(id => new SessionWrite { Id = id, StartedAt = Now }).ToList());

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await store.Reader.QuerySessionsAsync(project, new SessionQuery(null, 3, cursor), Ct);
            seen.AddRange(page.Items.Select(s => s.Id));
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        seen.ShouldBe(ids.OrderByDescending(id => id, SessionIdOrder));
    }

    /// <summary>Run ids ordered as stores order them: by their big-endian bytes (<see cref="StorageUnits.ToBytes"/>).</summary>
    protected static IComparer<Guid> IdOrder { get; } = Comparer<Guid>.Create((a, b) => StorageUnits.ToBytes(a).AsSpan().SequenceCompareTo(StorageUnits.ToBytes(b)));

    private static async Task<List<List<Guid>>> PagesAsync(ILedgerStore store, long project, FilterNode? filter, int size)
    {
        var pages = new List<List<Guid>>();
        string? cursor = null;
        do
        {
            var page = await store.Reader.QueryRunsAsync(project, new RunQuery(filter, size, cursor), Ct);
            page.Items.Count.ShouldBeLessThanOrEqualTo(size);
            if (page.Items.Count > 0 || pages.Count == 0)
            {
                pages.Add(page.Items.Select(r => r.Id).ToList());
            }

            cursor = page.NextCursor;
        }
        while (cursor is not null);

        return pages;
    }
}
