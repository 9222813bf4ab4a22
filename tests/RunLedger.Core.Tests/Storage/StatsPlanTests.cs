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
}
