using RunLedger.Core.Rollups;
using RunLedger.Core.Storage;

namespace RunLedger.Core.Tests.Rollups;

public sealed class HourlyRollupFoldTests
{
    private const long Minute = 60_000_000;

    [Fact]
    public void Fold_FiveMinuteRowsInKeyOrder_GiveTheHourlyRowsTheWriterKeeps()
    {
        // The writer's deltas hold every tier; folding the 5-minute ones must give the hourly ones.
        var random = new Random(17);
        var deltas = new RollupDeltas();
        string[] statuses = ["succeeded", "failed", "running"];
        for (var i = 0; i < 3_000; i++)
        {
            var start = random.NextInt64(-3 * 60 * Minute, 30 * 60 * Minute);
            deltas.ApplyRun(1 + (i % 2), null, new RunRow
            {
                Kind = i % 7 == 0 ? "tool" : "llm",
                Name = i % 5 == 0 ? null : "n" + (i % 4),
                Model = "m" + (i % 3),
                Status = statuses[i % 3],
                StartedAt = start,
                EndedAt = i % 9 == 0 ? null : start + random.NextInt64(50, 90_000_000),
                InputTokens = i,
                CostNanos = 1_000 * i,
            });
        }

        var fold = new HourlyRollupFold();
        var folded = new List<KeyValuePair<RollupKey, RollupFigures>>();
        foreach (var (key, figures) in deltas.Items.Where(d => d.Key.BucketSize == RollupDeltas.FiveMinutes).OrderBy(d => d.Key.ProjectId).ThenBy(d => d.Key.BucketStart)
                     .ThenBy(d => d.Key.Kind, StringComparer.Ordinal).ThenBy(d => d.Key.Name, StringComparer.Ordinal)
                     .ThenBy(d => d.Key.Model, StringComparer.Ordinal).ThenBy(d => d.Key.Status, StringComparer.Ordinal))
        {
            folded.AddRange(fold.Add(key, figures));
        }

        folded.AddRange(fold.Complete());

        var hourly = deltas.Items.Where(d => d.Key.BucketSize == RollupDeltas.Hour).ToDictionary(d => d.Key, d => d.Value);
        folded.Select(f => f.Key).ShouldBe(hourly.Keys, ignoreOrder: true);
        foreach (var (key, figures) in folded)
        {
            var expected = hourly[key];
            (figures.Count, figures.Errors, figures.InputTokens, figures.CostNanos, figures.DurationCount, figures.DurationSum, figures.DurationMin, figures.DurationMax)
                .ShouldBe((expected.Count, expected.Errors, expected.InputTokens, expected.CostNanos, expected.DurationCount, expected.DurationSum, expected.DurationMin, expected.DurationMax), key.ToString());
            figures.Histogram.ContentEquals(expected.Histogram).ShouldBeTrue(key.ToString());
        }
    }

    [Fact]
    public void Add_RowOfAnEarlierHour_IsRefused()
    {
        var fold = new HourlyRollupFold();
        fold.Add(new RollupKey(1, RollupDeltas.FiveMinutes, 120 * Minute, "llm", "", "", "succeeded"), new RollupFigures { Count = 1 });

        Should.Throw<InvalidOperationException>(() => fold.Add(new RollupKey(1, RollupDeltas.FiveMinutes, 5 * Minute, "llm", "", "", "succeeded"), new RollupFigures { Count = 1 }));
        Should.Throw<ArgumentException>(() => fold.Add(new RollupKey(1, RollupDeltas.Hour, 180 * Minute, "llm", "", "", "succeeded"), new RollupFigures { Count = 1 }));
    }
}
