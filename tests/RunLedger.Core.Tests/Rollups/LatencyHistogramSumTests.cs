using RunLedger.Core.Rollups;

namespace RunLedger.Core.Tests.Rollups;

public sealed class LatencyHistogramSumTests
{
    private static readonly double[] Quantiles = [0.0, 0.01, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0];

    [Fact]
    public void AddBytes_ManyStoredHistograms_SameBucketsAndQuantilesAsTheSparseMerge()
    {
        var random = new Random(29);
        var merged = new LatencyHistogram();
        var sum = new LatencyHistogramSum();
        var concatenated = new List<byte>();
        for (var part = 0; part < 300; part++)
        {
            // Parts far apart in scale, so the dense range has to grow both ways.
            var scale = part % 3 == 0 ? 50L : part % 3 == 1 ? 400_000L : 9_000_000_000L;
            var histogram = new LatencyHistogram();
            for (var i = random.Next(1, 40); i > 0; i--)
            {
                histogram.Add((long)(scale * Math.Exp(random.NextDouble() * 3)));
            }

            merged.Merge(histogram);
            if (part % 2 == 0)
            {
                sum.AddBytes(histogram.ToBytes());
            }
            else
            {
                concatenated.AddRange(histogram.ToBytes());
            }
        }

        sum.AddBytes(concatenated.ToArray());

        sum.Count.ShouldBe(merged.Count);
        sum.ToHistogram().ContentEquals(merged).ShouldBeTrue();
        foreach (var q in Quantiles)
        {
            sum.Quantile(q).ShouldBe(merged.Quantile(q), $"q={q}");
        }
    }

    [Fact]
    public void Add_RunsAndOtherSums_EqualOneHistogramOfEveryDuration()
    {
        var random = new Random(3);
        var all = new LatencyHistogram();
        var parts = new[] { new LatencyHistogramSum(), new LatencyHistogramSum(), new LatencyHistogramSum() };
        for (var i = 0; i < 5_000; i++)
        {
            var value = (long)Math.Exp(random.NextDouble() * 25);
            all.Add(value);
            parts[i % 3].Add(value);
        }

        var total = new LatencyHistogramSum();
        foreach (var part in parts)
        {
            total.Add(part);
        }

        total.Add(new LatencyHistogramSum());
        total.ToHistogram().ContentEquals(all).ShouldBeTrue();
        total.Quantile(0.95).ShouldBe(all.Quantile(0.95));
        new LatencyHistogramSum().Quantile(0.5).ShouldBeNull();
    }

    [Theory]
    [InlineData(new byte[] { 2, 0 })]
    [InlineData(new byte[] { 1, 2, 5, 1 })]
    [InlineData(new byte[] { 1, 1, 5, 0 })]
    [InlineData(new byte[] { 1, 2, 5, 1, 0, 1 })]
    public void AddBytes_DamagedBytes_AreAFormatError(byte[] bytes)
    {
        Should.Throw<FormatException>(() => new LatencyHistogramSum().AddBytes(bytes));
    }
}
