using System.Globalization;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Query;
using RunLedger.Core.Storage;
using RunLedger.Core.Storage.Transfer;

namespace RunLedger.Conformance;

/// <summary>
/// Stats: every figure checked against values computed here from the runs as last written,
/// answered from the rollups and from the rows (the two must agree, also after updates that move
/// runs between buckets, groups and statuses), grouped by every dimension, per interval and beside
/// the previous period. Percentiles must be within the histogram's documented 1% of the exact
/// nearest-rank value.
/// </summary>
public abstract class StatsConformance : StoreConformance
{
    /// <summary>Relative error allowed on a percentile (the rollup histogram's documented bound).</summary>
    protected const double PercentileError = 0.01;

    private static readonly string[] Models = ["gpt-4o", "claude-sonnet-4", "gpt-4o-mini"];
    private static readonly DateTimeOffset Start = Today.AddDays(-3);

    /// <summary>Stats dimensions and how to read each from a run.</summary>
    private static readonly Dictionary<string, Func<Run, string?>> Dimensions = new(StringComparer.Ordinal)
    {
        ["kind"] = r => r.Kind,
        ["name"] = r => r.Name,
        ["model"] = r => r.Model,
        ["provider"] = r => r.Provider,
        ["status"] = r => r.Status,
        ["user"] = r => r.UserId,
        ["session"] = r => r.SessionId,
        ["metadata.repository"] = r => r.Metadata is null ? null : MetadataString(r.Metadata, "repository"),
    };

    [Fact]
    public async Task Total_FromRollups_MatchesFiguresFromTheRuns()
    {
        var (store, project, runs) = await SeedAsync();

        var stats = await store.Reader.GetStatsAsync(project, new StatsQuery(null, [], null, Start, Today, false), Ct);

        stats.Source.ShouldBe("rollups");
        ShouldMatch(stats, stats.Total, runs, "total");
        stats.Groups.Count.ShouldBe(1);
        ShouldMatch(stats, stats.Groups[0].Figures, runs, "the one group");
    }

    [Fact]
    public async Task Total_FromRows_MatchesFiguresFromTheRuns()
    {
        var (store, project, runs) = await SeedAsync();

        // A cost comparison is not a rollup dimension, so the rows must answer; every run has a cost.
        var stats = await store.Reader.GetStatsAsync(project, new StatsQuery(FilterParser.Parse("cost>=0", FilterTarget.Runs), [], null, Start, Today, false), Ct);

        stats.Source.ShouldBe("runs");
        ShouldMatch(stats, stats.Total, runs, "total");
    }

    [Theory]
    [InlineData("kind")]
    [InlineData("name")]
    [InlineData("model")]
    [InlineData("provider")]
    [InlineData("status")]
    [InlineData("user")]
    [InlineData("session")]
    [InlineData("metadata.repository")]
    public async Task GroupBy_EachDimension_MatchesFiguresFromTheRuns(string dimension)
    {
        var (store, project, runs) = await SeedAsync();

        var stats = await store.Reader.GetStatsAsync(project, new StatsQuery(null, [dimension], null, Start, Today, false), Ct);

        stats.GroupBy.ShouldBe([dimension]);
        ShouldMatch(stats, stats.Total, runs, "total");
        ShouldMatchGroups(stats, runs, [dimension]);
    }

    [Fact]
    public async Task GroupBy_TwoDimensions_FromRollupsAndFromRows_Agree()
    {
        var (store, project, runs) = await SeedAsync();
        var query = new StatsQuery(null, ["model", "status"], null, Start, Today, false);

        var fromRollups = await store.Reader.GetStatsAsync(project, query, Ct);
        var fromRows = await store.Reader.GetStatsAsync(project, query with { Filter = FilterParser.Parse("cost>=0", FilterTarget.Runs) }, Ct);

        fromRollups.Source.ShouldBe("rollups");
        fromRows.Source.ShouldBe("runs");
        ShouldMatchGroups(fromRollups, runs, ["model", "status"]);
        ShouldMatchGroups(fromRows, runs, ["model", "status"]);
        fromRollups.Groups.Select(g => g.Key).ShouldBe(fromRows.Groups.Select(g => g.Key), "groups come in the same order: most runs first");
    }

    [Theory]
    [InlineData("status:failed")]
    [InlineData("model:gpt-4o")]
    [InlineData("-model:gpt-4o")]
    [InlineData("kind:llm -status:succeeded")]
    [InlineData("name:n1 OR name:renamed")]
    [InlineData("model:gpt-4o*")]
    [InlineData("metadata.repository:acme/r1")]
    [InlineData("duration>2s")]
    [InlineData("started>-36h")]
    public async Task Filter_MatchesFiguresOfTheMatchingRuns(string filter)
    {
        var (store, project, runs) = await SeedAsync();
        var node = FilterParser.Parse(filter, FilterTarget.Runs);
        var matching = (await AllRunsAsync(store, project, node)).Select(r => r.Id).ToHashSet();
        matching.ShouldNotBeEmpty();

        var stats = await store.Reader.GetStatsAsync(project, new StatsQuery(node, ["model"], null, Start, Today, false), Ct);

        var expected = runs.Where(r => matching.Contains(r.Id) && r.StartedAt < Today).ToList();
        ShouldMatch(stats, stats.Total, expected, filter);
        ShouldMatchGroups(stats, expected, ["model"]);
    }

    [Theory]
    [InlineData(1440, "1d")]
    [InlineData(360, "6h")]
    [InlineData(45, "45m")]
    public async Task Interval_SeriesMatchFiguresPerInterval(int minutes, string label)
    {
        var (store, project, runs) = await SeedAsync();
        var interval = TimeSpan.FromMinutes(minutes);

        var stats = await store.Reader.GetStatsAsync(project, new StatsQuery(null, ["model"], interval, Start, Today, false), Ct);

        stats.Interval.ShouldBe(label);
        foreach (var group in stats.Groups)
        {
            var inGroup = runs.Where(r => r.Model == group.Key["model"]).ToList();
            group.Series.ShouldNotBeNull();
            group.Series.Select(p => p.Start).ShouldBe(group.Series.Select(p => p.Start).Order(), "points come oldest first");
            group.Series.Sum(p => p.Figures.Count).ShouldBe(group.Figures.Count);
            var expectedStarts = inGroup.Select(r => BucketOf(r.StartedAt, interval)).Distinct().Order().ToList();
            group.Series.Select(p => p.Start).ShouldBe(expectedStarts, $"the non-empty {label} intervals of {group.Key["model"]}");
            foreach (var point in group.Series)
            {
                ShouldMatch(stats, point.Figures, inGroup.Where(r => BucketOf(r.StartedAt, interval) == point.Start).ToList(), $"{group.Key["model"]} at {point.Start:O}");
            }
        }
    }

    [Fact]
    public async Task ComparePrevious_GivesThePeriodBeforeOfTheSameLength()
    {
        var (store, project, runs) = await SeedAsync();
        var from = Today.AddDays(-1);

        var stats = await store.Reader.GetStatsAsync(project, new StatsQuery(null, ["status"], null, from, Today, true), Ct);

        var current = runs.Where(r => r.StartedAt >= from).ToList();
        var previous = runs.Where(r => r.StartedAt >= from.AddDays(-1) && r.StartedAt < from).ToList();
        ShouldMatch(stats, stats.Total, current, "current");
        ShouldMatch(stats, stats.PreviousTotal.ShouldNotBeNull(), previous, "previous");
        foreach (var group in stats.Groups)
        {
            ShouldMatch(stats, group.Previous.ShouldNotBeNull(), previous.Where(r => r.Status == group.Key["status"]).ToList(), "previous " + group.Key["status"]);
        }

        var rows = await store.Reader.GetStatsAsync(project, new StatsQuery(FilterParser.Parse("cost>=0", FilterTarget.Runs), [], null, from.AddMinutes(7), Today.AddMinutes(7), true), Ct);
        ShouldMatch(rows, rows.PreviousTotal.ShouldNotBeNull(), runs.Where(r => r.StartedAt >= from.AddDays(-1).AddMinutes(7) && r.StartedAt < from.AddMinutes(7)).ToList(), "previous from rows");
        var plain = await store.Reader.GetStatsAsync(project, new StatsQuery(null, [], null, from, Today, false), Ct);
        plain.PreviousTotal.ShouldBeNull();
        plain.Groups.ShouldAllBe(g => g.Previous == null);
    }

    [Fact]
    public async Task Range_NotOnBucketEdges_IsStillExact()
    {
        var (store, project, runs) = await SeedAsync();
        var from = Start.AddHours(7).AddMinutes(3).AddSeconds(9);
        var to = Today.AddHours(-5).AddMinutes(-1);

        var stats = await store.Reader.GetStatsAsync(project, new StatsQuery(null, ["name"], null, from, to, false), Ct);

        stats.From.ShouldBe(from);
        stats.To.ShouldBe(to);
        ShouldMatch(stats, stats.Total, runs.Where(r => r.StartedAt >= from && r.StartedAt < to).ToList(), "total");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(60)]
    public async Task RaggedWindow_RollupsPlusRuns_EqualsTheAnswerFromTheRuns(int intervalMinutes)
    {
        var (store, project, _) = await SeedAsync();
        var from = Start.AddHours(7).AddMinutes(3).AddSeconds(9).AddTicks(70);
        var to = Today.AddHours(-5).AddMinutes(-1).AddSeconds(-13);
        TimeSpan? interval = intervalMinutes == 0 ? null : TimeSpan.FromMinutes(intervalMinutes);

        // Runs named "" with model "": rollups keep them as '' (read back as no name); the runs at
        // the window's edges must land in the same group, not in a group of their own.
        DateTimeOffset[] blankStarts = [from.AddSeconds(20), Start.AddDays(1).AddHours(12)];
        await WriteAsync(store, project, [.. blankStarts.Select(t => new RunWrite
        {
            Id = NewId(t),
            Kind = RunKind.Llm,
            Name = "",
            Model = "",
            StartedAt = t,
            EndedAt = t.AddMilliseconds(250),
            Status = RunStatus.Succeeded,
            CostUsd = 0.000001m,
        })]);
        await WriteRunsJustOutsideAsync(store, project, from, to);
        var query = new StatsQuery(null, ["name", "model", "status"], interval, from, to, true);

        var mixed = await store.Reader.GetStatsAsync(project, query, Ct);
        // cost>=0 holds for every seeded run but is no rollup dimension, so only the rows answer it.
        var rows = await store.Reader.GetStatsAsync(project, query with { Filter = FilterParser.Parse("cost>=0", FilterTarget.Runs) }, Ct);

        mixed.Source.ShouldBe("rollups+runs");
        rows.Source.ShouldBe("runs");
        ShouldBeSame(mixed.Total, rows.Total, "total");
        ShouldBeSame(mixed.PreviousTotal.ShouldNotBeNull(), rows.PreviousTotal.ShouldNotBeNull(), "previous total");
        mixed.Groups.Select(g => g.Key).ShouldBe(rows.Groups.Select(g => g.Key));
        rows.Groups.Where(g => g.Key["name"] is null).Sum(g => g.Figures.Count).ShouldBe(blankStarts.Length);
        for (var i = 0; i < rows.Groups.Count; i++)
        {
            var what = string.Join(',', rows.Groups[i].Key.Select(k => k.Key + "=" + k.Value));
            ShouldBeSame(mixed.Groups[i].Figures, rows.Groups[i].Figures, what);
            ShouldBeSame(mixed.Groups[i].Previous.ShouldNotBeNull(), rows.Groups[i].Previous.ShouldNotBeNull(), "previous " + what);
            var mixedSeries = mixed.Groups[i].Series ?? [];
            var rowSeries = rows.Groups[i].Series ?? [];
            mixedSeries.Select(p => p.Start).ShouldBe(rowSeries.Select(p => p.Start), what + ": points");
            for (var p = 0; p < rowSeries.Count; p++)
            {
                ShouldBeSame(mixedSeries[p].Figures, rowSeries[p].Figures, what + " at " + rowSeries[p].Start.ToString("O", CultureInfo.InvariantCulture));
            }
        }
    }

    [Theory]
    [InlineData(false, 0)]
    [InlineData(true, 0)]
    [InlineData(false, 60)]
    [InlineData(true, 60)]
    public async Task WindowEndingInsideABucket_ReadsItWholeOnlyWhenNothingStartedAfterTheEnd(bool runAfterTheEnd, int intervalMinutes)
    {
        // A night of runs after the seeded days, asked about a little after it ended: the day and
        // the hour the window ends in hold nothing after its end, so their rows answer whole.
        // One run 30 s after the end must keep the end ragged and stay out of the answer.
        var (store, project, seeded) = await SeedAsync();
        var to = Today.AddHours(6).AddMinutes(7).AddSeconds(13);
        var from = Today.AddMinutes(2).AddSeconds(3);
        var starts = Enumerable.Range(0, 40).Select(i => Today.AddHours(1).AddMinutes(i * 7).AddSeconds(i)).Append(to.AddSeconds(-20)).ToList();
        if (runAfterTheEnd)
        {
            starts.Add(to.AddSeconds(30));
        }

        await WriteAsync(store, project, [.. starts.Select((t, i) => new RunWrite
        {
            Id = NewId(t),
            Kind = RunKind.Llm,
            Name = "night",
            Model = Models[i % Models.Length],
            StartedAt = t,
            EndedAt = t.AddMilliseconds(100 + (i * 37)),
            Status = i % 6 == 0 ? RunStatus.Failed : RunStatus.Succeeded,
            Usage = new Usage { InputTokens = i, OutputTokens = 3 * i },
            CostUsd = i * 0.00001m,
        })]);
        TimeSpan? interval = intervalMinutes == 0 ? null : TimeSpan.FromMinutes(intervalMinutes);
        var query = new StatsQuery(null, ["model", "status"], interval, from, to, true);

        var mixed = await store.Reader.GetStatsAsync(project, query, Ct);
        var rows = await store.Reader.GetStatsAsync(project, query with { Filter = FilterParser.Parse("cost>=0", FilterTarget.Runs) }, Ct);

        mixed.Source.ShouldBe(runAfterTheEnd ? "rollups+runs" : "rollups");
        rows.Source.ShouldBe("runs");
        var all = await AllRunsAsync(store, project);
        ShouldMatch(mixed, mixed.Total, all.Where(r => r.StartedAt >= from && r.StartedAt < to).ToList(), "total");
        ShouldMatch(mixed, mixed.PreviousTotal.ShouldNotBeNull(), seeded.Where(r => r.StartedAt >= from - (to - from) && r.StartedAt < from).ToList(), "previous total");
        mixed.Groups.Select(g => g.Key).ShouldBe(rows.Groups.Select(g => g.Key));
        for (var i = 0; i < rows.Groups.Count; i++)
        {
            var what = string.Join(',', rows.Groups[i].Key.Select(k => k.Key + "=" + k.Value));
            ShouldBeSame(mixed.Groups[i].Figures, rows.Groups[i].Figures, what);
            ShouldBeSame(mixed.Groups[i].Previous.ShouldNotBeNull(), rows.Groups[i].Previous.ShouldNotBeNull(), "previous " + what);
            (mixed.Groups[i].Series ?? []).Select(p => (p.Start, p.Figures.Count)).ShouldBe((rows.Groups[i].Series ?? []).Select(p => (p.Start, p.Figures.Count)), what + ": points");
        }
    }

    [Fact]
    public async Task UpgradedLedger_HourlyRowsAddedUpFromFiveMinuteRows_AnswerAsTheRuns()
    {
        // A ledger written before the hourly tier has only 5-minute and daily rows: take the
        // hourly rows and the record of their migration away, reopen (the migration runs again
        // and adds the hourly rows up from the 5-minute ones), and ask a window whose whole hours
        // come from them.
        var (store, project, runs) = await SeedAsync();
        var from = Start.AddHours(7).AddMinutes(3).AddSeconds(9);
        var to = Today.AddHours(-5).AddMinutes(-1);
        await WriteRunsJustOutsideAsync(store, project, from, to);
        var query = new StatsQuery(null, ["model", "status"], null, from, to, true);
        var rowsQuery = query with { Filter = FilterParser.Parse("cost>=0", FilterTarget.Runs) };
        var written = await store.Reader.GetStatsAsync(project, query, Ct);

        await ExecuteSqlAsync("DELETE FROM rollups WHERE bucket_size = 3600");
        await ExecuteSqlAsync("DELETE FROM schema_version WHERE name LIKE '%hourly_rollups%'");
        store = await ReopenAsync(store);
        var upgraded = await store.Reader.GetStatsAsync(project, query, Ct);
        var rows = await store.Reader.GetStatsAsync(project, rowsQuery, Ct);

        upgraded.Source.ShouldBe("rollups+runs");
        rows.Source.ShouldBe("runs");
        ShouldMatch(upgraded, upgraded.Total, runs.Where(r => r.StartedAt >= from && r.StartedAt < to).ToList(), "total");
        ShouldBeSame(upgraded.Total, rows.Total, "total");
        ShouldBeSame(upgraded.PreviousTotal.ShouldNotBeNull(), rows.PreviousTotal.ShouldNotBeNull(), "previous total");
        upgraded.Groups.Select(g => g.Key).ShouldBe(rows.Groups.Select(g => g.Key));
        for (var i = 0; i < rows.Groups.Count; i++)
        {
            var what = string.Join(',', rows.Groups[i].Key.Select(k => k.Key + "=" + k.Value));
            ShouldBeSame(upgraded.Groups[i].Figures, rows.Groups[i].Figures, what);
            upgraded.Groups[i].Figures.ShouldBe(written.Groups[i].Figures, what + ": as before the upgrade");
        }

        // The writer keeps the added-up rows going: a run written after the upgrade is counted once.
        var late = from.AddHours(2).AddMinutes(17);
        await WriteAsync(store, project, [new RunWrite { Id = NewId(late), Kind = RunKind.Llm, Name = "late", Model = "gpt-4o", StartedAt = late, EndedAt = late.AddSeconds(2), Status = RunStatus.Succeeded, CostUsd = 0.002m }]);
        var after = await store.Reader.GetStatsAsync(project, query, Ct);
        var afterRows = await store.Reader.GetStatsAsync(project, rowsQuery, Ct);
        after.Total.Count.ShouldBe(upgraded.Total.Count + 1);
        ShouldBeSame(after.Total, afterRows.Total, "total after a later write");
    }

    [Fact]
    public async Task RebuildHourlyRollups_AfterACopyWithoutThem_AnswersAsBefore()
    {
        // What a restore of a version-1 backup leaves: 5-minute and daily rows, no hourly ones.
        var (store, project, _) = await SeedAsync();
        var query = new StatsQuery(null, ["name", "status"], TimeSpan.FromHours(6), Start.AddHours(1).AddMinutes(5), Today.AddHours(-2), false);
        var before = await store.Reader.GetStatsAsync(project, query, Ct);
        await ExecuteSqlAsync("DELETE FROM rollups WHERE bucket_size = 3600");
        (await store.Reader.GetStatsAsync(project, query, Ct)).Total.Count.ShouldBeLessThan(before.Total.Count, "the window's whole hours come from the hourly rows");

        var transfer = ((ITransferableStore)store).Transfer;
        var written = await transfer.RebuildHourlyRollupsAsync(Ct);

        written.ShouldBeGreaterThan(0);
        var after = await store.Reader.GetStatsAsync(project, query, Ct);
        after.Total.ShouldBe(before.Total);
        after.Groups.Select(g => g.Key).ShouldBe(before.Groups.Select(g => g.Key));
        for (var i = 0; i < before.Groups.Count; i++)
        {
            after.Groups[i].Figures.ShouldBe(before.Groups[i].Figures);
            after.Groups[i].Series!.Select(p => (p.Start, p.Figures)).ShouldBe(before.Groups[i].Series!.Select(p => (p.Start, p.Figures)));
        }

        (await transfer.RebuildHourlyRollupsAsync(Ct)).ShouldBe(written, "a second rebuild replaces the rows with the same ones");
        (await store.Reader.GetStatsAsync(project, query, Ct)).Total.ShouldBe(before.Total);
    }

    /// <summary>
    /// The same figures, percentiles included (rollup histograms merge exactly); max only as the
    /// upper bound rollups keep after runs moved out of a bucket.
    /// </summary>
    private static void ShouldBeSame(StatsFigures actual, StatsFigures expected, string what)
    {
        actual.Count.ShouldBe(expected.Count, what + ": count");
        actual.Errors.ShouldBe(expected.Errors, what + ": errors");
        actual.InputTokens.ShouldBe(expected.InputTokens, what + ": input tokens");
        actual.OutputTokens.ShouldBe(expected.OutputTokens, what + ": output tokens");
        actual.CostUsd.ShouldBe(expected.CostUsd, what + ": cost");
        actual.AvgMs.ShouldBe(expected.AvgMs, what + ": avg");
        actual.P50Ms.ShouldBe(expected.P50Ms, what + ": p50");
        actual.P95Ms.ShouldBe(expected.P95Ms, what + ": p95");
        actual.P99Ms.ShouldBe(expected.P99Ms, what + ": p99");
        if (expected.MaxMs is { } max)
        {
            actual.MaxMs.ShouldNotBeNull(what + ": max").ShouldBeGreaterThanOrEqualTo(max, what + ": max is an upper bound");
        }
        else
        {
            actual.MaxMs.ShouldBeNull(what + ": max");
        }
    }

    [Fact]
    public async Task GroupBy_MetadataKey_KeysAreTheValuesAsText()
    {
        var (store, project) = await OpenWithProjectAsync();
        string?[] values = ["\"acme\"", "3", "2.5", "true", "false", null];
        var writes = values.Select((v, i) => new RunWrite
        {
            Id = NewId(),
            StartedAt = Now.AddMinutes(-i),
            Metadata = v is null ? RawJson.Parse("{\"other\":1}") : RawJson.Parse("{\"k\":" + v + "}"),
        }).ToList();
        await WriteAsync(store, project, writes);

        var stats = await store.Reader.GetStatsAsync(project, new StatsQuery(null, ["metadata.k"], null, Today, Today.AddDays(1), false), Ct);

        stats.Groups.Select(g => g.Key["metadata.k"]).Order(StringComparer.Ordinal).ShouldBe([null, "2.5", "3", "acme", "false", "true"]);
        stats.Groups.ShouldAllBe(g => g.Figures.Count == 1);
    }

    [Fact]
    public async Task EmptyRange_HasZeroFiguresAndNoPercentiles()
    {
        var (store, project, _) = await SeedAsync();

        var stats = await store.Reader.GetStatsAsync(project, new StatsQuery(null, ["model"], TimeSpan.FromDays(1), Today.AddDays(-30), Today.AddDays(-20), true), Ct);

        stats.Total.Count.ShouldBe(0);
        stats.Total.CostUsd.ShouldBe(0m);
        stats.Total.P50Ms.ShouldBeNull();
        stats.Total.MaxMs.ShouldBeNull();
        stats.Groups.ShouldBeEmpty();
    }

    [Fact]
    public async Task UnknownDimension_IsAFormatErrorNamingTheDimensions()
    {
        var (store, project) = await OpenWithProjectAsync();

        var error = await Should.ThrowAsync<FormatException>(() => store.Reader.GetStatsAsync(project, new StatsQuery(null, ["colour"], null, Start, Today, false), Ct));

        error.Message.ShouldContain("colour");
        error.Message.ShouldContain("model");
    }

    /// <summary>
    /// Writes 400 runs over the three days before <see cref="StoreConformance.Today"/> and then
    /// updates a third of them (new status and duration, some to another day, some to another
    /// model or name), and returns the runs as finally stored.
    /// </summary>
    private async Task<(ILedgerStore Store, long Project, List<Run> Runs)> SeedAsync()
    {
        var (store, project) = await OpenWithProjectAsync();
        var random = new Random(7);
        var writes = new List<RunWrite>();
        for (var i = 0; i < 400; i++)
        {
            var start = Start.AddSeconds(random.Next(0, 3 * 24 * 60 * 60));
            var tool = i % 9 == 0;
            writes.Add(new RunWrite
            {
                Id = NewId(start),
                Kind = tool ? RunKind.Tool : RunKind.Llm,
                Name = "n" + (i % 3).ToString(CultureInfo.InvariantCulture),
                Model = tool ? null : Models[i % Models.Length],
                Provider = tool ? null : (i % Models.Length == 1 ? "anthropic" : "openai"),
                StartedAt = start,
                EndedAt = i % 11 == 0 ? null : start.AddMilliseconds(Math.Round(Math.Exp(random.NextDouble() * 11), 3)),
                Status = i % 11 == 0 ? null : i % 10 == 0 ? RunStatus.Failed : RunStatus.Succeeded,
                Usage = new Usage { InputTokens = i, OutputTokens = 2 * i },
                CostUsd = i * 0.000001m,
                UserId = i % 5 == 0 ? null : "u" + (i % 4).ToString(CultureInfo.InvariantCulture),
                SessionId = i % 6 == 0 ? null : "s" + (i % 5).ToString(CultureInfo.InvariantCulture),
                Metadata = i % 7 == 0 ? null : RawJson.Parse("{\"repository\":\"acme/r" + (i % 4).ToString(CultureInfo.InvariantCulture) + "\",\"n\":" + i.ToString(CultureInfo.InvariantCulture) + "}"),
            });
        }

        foreach (var chunk in writes.Chunk(100))
        {
            await WriteAsync(store, project, chunk);
        }

        var updates = new List<RunWrite>();
        for (var i = 0; i < writes.Count; i += 3)
        {
            var w = writes[i];
            var movedStart = i % 2 == 0 ? w.StartedAt!.Value : w.StartedAt!.Value.AddHours(i % 4 == 1 ? 30 : -20);
            if (movedStart < Start || movedStart >= Today)
            {
                movedStart = w.StartedAt!.Value;
            }

            updates.Add(new RunWrite
            {
                Id = w.Id,
                Status = i % 5 == 0 ? RunStatus.Succeeded : RunStatus.Timeout,
                StartedAt = movedStart,
                EndedAt = movedStart.AddSeconds(30 + (i % 17)),
                Model = i % 4 == 0 && w.Model is not null ? "gpt-4o-mini" : null,
                Name = i % 9 == 0 ? "renamed" : null,
                Usage = new Usage { OutputTokens = 5 },
                CostUsd = i % 2 == 0 ? 0.5m : null,
            });
        }

        await WriteAsync(store, project, updates);
        var runs = await AllRunsAsync(store, project);
        runs.Count.ShouldBe(400);
        return (store, project, runs);
    }

    /// <summary>
    /// A run 10 s before <paramref name="from"/> and one 10 s after <paramref name="to"/>, so the
    /// buckets the window's edges cut through are not empty outside it and the edges are answered
    /// from the runs (a bucket with nothing outside the window is read whole instead).
    /// </summary>
    private static Task WriteRunsJustOutsideAsync(ILedgerStore store, long project, DateTimeOffset from, DateTimeOffset to) =>
        WriteAsync(store, project, [.. new[] { from.AddSeconds(-10), to.AddSeconds(10) }.Select(t => new RunWrite
        {
            Id = NewId(t),
            Kind = RunKind.Llm,
            Name = "n0",
            Model = Models[0],
            StartedAt = t,
            EndedAt = t.AddMilliseconds(40),
            Status = RunStatus.Succeeded,
            CostUsd = 0.000002m,
        })]);

    private static void ShouldMatchGroups(StatsResult stats, List<Run> runs, string[] dimensions)
    {
        var expected = runs.GroupBy(r => string.Join('\u001f', dimensions.Select(d => Dimensions[d](r) ?? "\u0001"))).ToDictionary(g => g.Key, g => g.ToList());
        stats.Groups.Count.ShouldBe(expected.Count);
        stats.Groups.Select(g => g.Figures.Count).ShouldBe(stats.Groups.Select(g => g.Figures.Count).OrderDescending(), "groups come with the most runs first");
        foreach (var group in stats.Groups)
        {
            group.Key.Keys.ShouldBe(dimensions, ignoreOrder: true);
            var key = string.Join('\u001f', dimensions.Select(d => group.Key[d] ?? "\u0001"));
            expected.ShouldContainKey(key);
            ShouldMatch(stats, group.Figures, expected[key], string.Join(',', dimensions.Select(d => d + "=" + (group.Key[d] ?? "(none)"))));
        }
    }

    /// <summary>Asserts figures against the runs they summarize: exact counts and sums, percentiles within the documented error.</summary>
    /// <remarks>
    /// From rollups <see cref="StatsFigures.MaxMs"/> is documented as an upper bound once runs have
    /// been updated to shorter durations (a bucket cannot narrow its maximum without the rows), so
    /// it is checked exactly only when the rows answered.
    /// </remarks>
    protected static void ShouldMatch(StatsResult stats, StatsFigures figures, IReadOnlyCollection<Run> runs, string what)
    {
        ArgumentNullException.ThrowIfNull(stats);
        ArgumentNullException.ThrowIfNull(figures);
        ArgumentNullException.ThrowIfNull(runs);
        figures.Count.ShouldBe(runs.Count, what + ": count");
        figures.Errors.ShouldBe(runs.Count(r => r.Status is "failed" or "timeout"), what + ": errors");
        figures.InputTokens.ShouldBe(runs.Sum(r => r.Usage.InputTokens ?? 0), what + ": input tokens");
        figures.OutputTokens.ShouldBe(runs.Sum(r => r.Usage.OutputTokens ?? 0), what + ": output tokens");
        figures.CostUsd.ShouldBe(runs.Sum(r => r.CostUsd ?? 0m), what + ": cost");
        var durations = runs.Where(r => r.DurationMs is not null).Select(r => r.DurationMs!.Value).Order().ToList();
        if (durations.Count == 0)
        {
            figures.P50Ms.ShouldBeNull(what + ": p50");
            figures.MaxMs.ShouldBeNull(what + ": max");
            figures.AvgMs.ShouldBeNull(what + ": avg");
            return;
        }

        if (stats.Source == "runs")
        {
            figures.MaxMs.ShouldBe(durations[^1], what + ": max");
        }
        else
        {
            figures.MaxMs.ShouldNotBeNull(what + ": max").ShouldBeGreaterThanOrEqualTo(durations[^1], what + ": max is an upper bound");
        }

        figures.AvgMs!.Value.ShouldBe(durations.Average(), 0.0011, what + ": avg");
        ShouldBeNear(figures.P50Ms, NearestRank(durations, 0.50), what + ": p50");
        ShouldBeNear(figures.P95Ms, NearestRank(durations, 0.95), what + ": p95");
        ShouldBeNear(figures.P99Ms, NearestRank(durations, 0.99), what + ": p99");
    }

    private static void ShouldBeNear(double? actual, double expected, string what) =>
        actual.ShouldNotBeNull(what).ShouldBe(expected, (expected * PercentileError) + 0.001, what);

    private static double NearestRank(List<double> sorted, double q) => sorted[Math.Max(0, (int)Math.Ceiling(q * sorted.Count) - 1)];

    private static DateTimeOffset BucketOf(DateTimeOffset time, TimeSpan interval)
    {
        var micros = StorageUnits.ToMicros(time);
        var step = interval.Ticks / 10;
        return StorageUnits.FromMicros(micros - (((micros % step) + step) % step));
    }

    private static string? MetadataString(RawJson metadata, string key)
    {
        using var document = metadata.ToDocument();
        return document.RootElement.TryGetProperty(key, out var value) ? value.ToString() : null;
    }
}
