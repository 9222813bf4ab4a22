using RunLedger.Core.Query;
using RunLedger.Core.Storage;

namespace RunLedger.Core.Tests.Storage;

public sealed class StatsPlanTests
{
    private const long Minute = 60_000_000;
    private const long Day = 1440 * Minute;
    private static readonly DateTimeOffset Epoch = DateTimeOffset.UnixEpoch;

    private static StatsQuery Query(string[]? groupBy = null, string? filter = null, TimeSpan? interval = null) =>
        new(FilterParser.Parse(filter, FilterTarget.Runs), groupBy ?? ["model"], interval, Epoch, Epoch, false);

    [Fact]
    public void PlanSegments_RaggedWindow_DaysInsideThenHoursThenFiveMinutesRunsAtTheEnds()
    {
        var from = (10 * Day) + (3 * Minute) + 7;
        var to = (40 * Day) + (62 * Minute) + 11;

        var plan = StatsAggregation.PlanSegments(Query(), from, to);

        plan.ShouldBe(
        [
            new StatsSegment(from, (10 * Day) + (5 * Minute), null),
            new StatsSegment((10 * Day) + (5 * Minute), (10 * Day) + (60 * Minute), 300),
            new StatsSegment((10 * Day) + (60 * Minute), 11 * Day, 3_600),
            new StatsSegment(11 * Day, 40 * Day, 86_400),
            new StatsSegment(40 * Day, (40 * Day) + (60 * Minute), 3_600),
            new StatsSegment((40 * Day) + (60 * Minute), to, null),
        ]);
        StatsAggregation.SourceOf(plan).ShouldBe("rollups+runs");
    }

    [Fact]
    public void PlanSegments_CoverTheWindowExactlyOnceWithoutGapsOrOverlaps()
    {
        var random = new Random(11);
        for (var i = 0; i < 2000; i++)
        {
            var from = random.NextInt64(-40 * Day, 40 * Day);
            var to = from + random.NextInt64(0, 45 * Day);
            TimeSpan? interval = (i % 4) switch { 0 => null, 1 => TimeSpan.FromHours(1), 2 => TimeSpan.FromDays(1), _ => TimeSpan.FromMinutes(7) };

            var plan = StatsAggregation.PlanSegments(Query(interval: interval), from, to);

            var cursor = from;
            foreach (var segment in plan)
            {
                segment.FromUs.ShouldBe(cursor);
                segment.ToUs.ShouldBeGreaterThan(segment.FromUs);
                if (segment.BucketSize is { } size)
                {
                    (segment.FromUs % (size * 1_000_000)).ShouldBe(0);
                    (segment.ToUs % (size * 1_000_000)).ShouldBe(0);
                    if (interval is { } step)
                    {
                        (step.Ticks / 10 % (size * 1_000_000)).ShouldBe(0, "a bucket must fall inside one interval point");
                    }
                }

                cursor = segment.ToUs;
            }

            if (to > from)
            {
                cursor.ShouldBe(to);
            }
        }
    }

    [Fact]
    public void PlanSegments_AlignedWindow_IsRollupsOnly()
    {
        var plan = StatsAggregation.PlanSegments(Query(), 3 * Day, 5 * Day);

        plan.ShouldBe([new StatsSegment(3 * Day, 5 * Day, 86_400)]);
        StatsAggregation.SourceOf(plan).ShouldBe("rollups");
    }

    [Fact]
    public void PlanSegments_WindowShorterThanABucket_IsRunsOnly()
    {
        var plan = StatsAggregation.PlanSegments(Query(), (3 * Day) + 1, (3 * Day) + (4 * Minute));

        StatsAggregation.SourceOf(plan).ShouldBe("runs");
    }

    [Theory]
    [InlineData(new[] { "metadata.repository" }, null)]
    [InlineData(new[] { "user" }, null)]
    [InlineData(new[] { "model" }, "cost>0.01")]
    [InlineData(new[] { "model" }, "model:gpt-4o*")]
    public void PlanSegments_WhatRollupsDoNotCarry_IsRunsOnly(string[] groupBy, string? filter)
    {
        var plan = StatsAggregation.PlanSegments(Query(groupBy, filter), 0, 30 * Day);

        plan.ShouldBe([new StatsSegment(0, 30 * Day, null)]);
    }

    [Fact]
    public void PlanSegments_LastTwentyFourHours_ReadsWholeHoursFromTheHourlyTier()
    {
        var from = (10 * Day) + (8 * 60 * Minute) + (7 * Minute) + 3;
        var to = from + Day;

        var plan = StatsAggregation.PlanSegments(Query(), from, to);

        plan.ShouldBe(
        [
            new StatsSegment(from, (10 * Day) + (8 * 60 * Minute) + (10 * Minute), null),
            new StatsSegment((10 * Day) + (8 * 60 * Minute) + (10 * Minute), (10 * Day) + (9 * 60 * Minute), 300),
            new StatsSegment((10 * Day) + (9 * 60 * Minute), (11 * Day) + (8 * 60 * Minute), 3_600),
            new StatsSegment((11 * Day) + (8 * 60 * Minute), (11 * Day) + (8 * 60 * Minute) + (5 * Minute), 300),
            new StatsSegment((11 * Day) + (8 * 60 * Minute) + (5 * Minute), to, null),
        ]);
    }

    [Fact]
    public void PlanSegments_IntervalOfFortyFiveMinutes_SkipsTheHourlyTier()
    {
        var plan = StatsAggregation.PlanSegments(Query(interval: TimeSpan.FromMinutes(45)), 7 * Minute, Day + (7 * Minute));

        plan.Where(s => s.BucketSize is not null).ShouldAllBe(s => s.BucketSize == 300);
    }

    [Fact]
    public void PlanSegments_IntervalOfSevenMinutes_UsesNoBucket()
    {
        var plan = StatsAggregation.PlanSegments(Query(interval: TimeSpan.FromMinutes(7)), 0, 3 * Day);

        StatsAggregation.SourceOf(plan).ShouldBe("runs");
    }

    [Fact]
    public async Task PlanSegmentsAsync_WindowEndingAfterTheLastRun_ReadsTheDayItEndsInWhole()
    {
        // Runs from 01:00 to 05:40 of days 10 and 11; "the last 24 hours" asked at 06:07:13 of day 11.
        long[] runs = [.. Enumerable.Range(0, 41).SelectMany(i => new[] { 10 * Day, 11 * Day }.Select(day => day + (60 * Minute) + (i * 7 * Minute)))];
        var to = (11 * Day) + (367 * Minute) + 13;
        var from = to - Day;

        var plan = await StatsAggregation.PlanSegmentsAsync(Query(), from, to, Oracle(runs), CancellationToken.None);

        plan.ShouldBe(
        [
            new StatsSegment(from - (7 * Minute) - 13, 11 * Day, 3_600),
            new StatsSegment(11 * Day, 12 * Day, 86_400),
        ]);
        StatsAggregation.SourceOf(plan).ShouldBe("rollups");
    }

    [Fact]
    public async Task PlanSegmentsAsync_ARunJustAfterTheEnd_KeepsTheEdgeRagged()
    {
        long[] runs = [(11 * Day) + (60 * Minute), (11 * Day) + (367 * Minute) + 43];
        var to = (11 * Day) + (367 * Minute) + 13;

        var plan = await StatsAggregation.PlanSegmentsAsync(Query(), to - Day, to, Oracle(runs), CancellationToken.None);

        plan[^1].ShouldBe(new StatsSegment((11 * Day) + (365 * Minute), to, null));
        plan.ShouldAllBe(s => s.ToUs <= to);
    }

    [Fact]
    public async Task PlanSegmentsAsync_CountEveryRunInTheWindowOnceAndNoneOutside()
    {
        var random = new Random(5);
        for (var i = 0; i < 2000; i++)
        {
            // Bursts of runs with quiet gaps, so edges fall both in busy and in empty stretches.
            var runs = new List<long>();
            var cursor = random.NextInt64(-3 * Day, 3 * Day);
            for (var burst = 0; burst < random.Next(0, 6); burst++)
            {
                cursor += random.NextInt64(0, 2 * Day);
                for (var r = 0; r < random.Next(1, 20); r++)
                {
                    runs.Add(cursor + random.NextInt64(0, random.Next(2) == 0 ? 10 * Minute : 300 * Minute));
                }
            }

            var from = random.NextInt64(-3 * Day, 8 * Day);
            var to = from + random.NextInt64(1, (i % 3) switch { 0 => 10 * Minute, 1 => 30 * 60 * Minute, _ => 9 * Day });
            TimeSpan? interval = (i % 4) switch { 0 => null, 1 => TimeSpan.FromHours(1), 2 => TimeSpan.FromDays(1), _ => TimeSpan.FromMinutes(7) };

            var plan = await StatsAggregation.PlanSegmentsAsync(Query(interval: interval), from, to, Oracle([.. runs]), CancellationToken.None);

            for (var s = 1; s < plan.Count; s++)
            {
                plan[s].FromUs.ShouldBe(plan[s - 1].ToUs, "segments follow each other without gaps or overlaps");
            }

            plan[0].FromUs.ShouldBeLessThanOrEqualTo(from);
            plan[^1].ToUs.ShouldBeGreaterThanOrEqualTo(to);
            foreach (var segment in plan.Where(s => s.BucketSize is not null))
            {
                var sizeUs = segment.BucketSize!.Value * 1_000_000;
                (segment.FromUs % sizeUs).ShouldBe(0);
                (segment.ToUs % sizeUs).ShouldBe(0);
            }

            plan.Where(s => s.BucketSize is null).ShouldAllBe(s => s.FromUs >= from && s.ToUs <= to, "runs are only read inside the window");
            foreach (var run in runs)
            {
                var counted = plan.Count(s => run >= s.FromUs && run < s.ToUs);
                counted.ShouldBe(run >= from && run < to ? 1 : 0, $"run at {run} in [{from}, {to}): {string.Join(", ", plan)}");
            }
        }
    }

    [Fact]
    public async Task PlanSegmentsAsync_AsksTheStoreOnceAboutAtMostTwoRangesPerBucketSize()
    {
        var calls = new List<IReadOnlyList<(long FromUs, long ToUs)>>();
        var answer = Oracle([]);
        var to = (11 * Day) + (367 * Minute) + 13;

        var plan = await StatsAggregation.PlanSegmentsAsync(
            Query(),
            to - Day,
            to,
            (ranges, token) =>
            {
                calls.Add(ranges);
                return answer(ranges, token);
            },
            CancellationToken.None);

        calls.Count.ShouldBe(1);
        calls[0].Count.ShouldBe(6);
        plan.ShouldBe([new StatsSegment(10 * Day, 12 * Day, 86_400)], "nothing anywhere: two whole days");
        var aligned = await StatsAggregation.PlanSegmentsAsync(Query(), 3 * Day, 5 * Day, (_, _) => throw new InvalidOperationException("an aligned window has nothing to ask"), CancellationToken.None);
        aligned.ShouldBe([new StatsSegment(3 * Day, 5 * Day, 86_400)]);
    }

    /// <summary>The exact answers a store gives: for each range, whether none of <paramref name="runs"/> started in it.</summary>
    private static Func<IReadOnlyList<(long FromUs, long ToUs)>, CancellationToken, ValueTask<IReadOnlyList<bool>>> Oracle(long[] runs) =>
        (ranges, _) => ValueTask.FromResult<IReadOnlyList<bool>>([.. ranges.Select(r => !runs.Any(t => t >= r.FromUs && t < r.ToUs))]);
}
