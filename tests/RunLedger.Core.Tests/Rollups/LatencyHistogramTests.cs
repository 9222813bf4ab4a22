using RunLedger.Core.Rollups;

namespace RunLedger.Core.Tests.Rollups;

public sealed class LatencyHistogramTests
{
    private const int Samples = 100_000;
    private static readonly double[] Quantiles = [0.0, 0.5, 0.95, 0.99, 1.0];

    public static TheoryData<string> Distributions => new(
        "lognormal", "pareto", "bimodal", "all-equal", "tiny", "huge", "uniform-wide", "zeros-and-ones");

    [Theory]
    [MemberData(nameof(Distributions))]
    public void Quantile_SkewedDistributions_WithinTwoPercentOfExactNearestRank(string distribution)
    {
        var values = Sample(distribution, new Random(distribution.Length * 7919), Samples);
        var histogram = new LatencyHistogram();
        foreach (var value in values)
        {
            histogram.Add(value);
        }

        Array.Sort(values);
        histogram.Count.ShouldBe(Samples);
        foreach (var q in Quantiles)
        {
            var exact = ExactNearestRank(values, q);
            var estimate = histogram.Quantile(q)!.Value;
            if (exact == 0)
            {
                estimate.ShouldBe(0, $"{distribution} q={q}");
            }
            else
            {
                (Math.Abs(estimate - exact) / exact).ShouldBeLessThanOrEqualTo(0.02, $"{distribution} q={q} exact={exact} estimate={estimate}");
            }
        }
    }

    [Fact]
    public void Quantile_EveryValueUpToAMillion_IsWithinOnePercent()
    {
        for (long value = 0; value < 1_000_000; value += 1 + (value / 97))
        {
            var histogram = new LatencyHistogram();
            histogram.Add(value);
            var estimate = histogram.Quantile(0.5)!.Value;
            Math.Abs(estimate - value).ShouldBeLessThanOrEqualTo(value * 0.01, $"value={value}");
        }
    }

    [Fact]
    public void Quantile_SmallValues_AreExact()
    {
        var histogram = new LatencyHistogram();
        for (var value = 0; value < 128; value++)
        {
            histogram.Add(value);
        }

        histogram.Quantile(0).ShouldBe(0);
        histogram.Quantile(0.5).ShouldBe(63);
        histogram.Quantile(1).ShouldBe(127);
    }

    [Fact]
    public void Quantile_Empty_IsNull()
    {
        var histogram = new LatencyHistogram();
        histogram.IsEmpty.ShouldBeTrue();
        histogram.Quantile(0.5).ShouldBeNull();
    }

    [Fact]
    public void Quantile_OutOfRange_Throws()
    {
        var histogram = new LatencyHistogram();
        histogram.Add(5);
        Should.Throw<ArgumentOutOfRangeException>(() => histogram.Quantile(1.5));
        Should.Throw<ArgumentOutOfRangeException>(() => histogram.Quantile(double.NaN));
    }

    [Fact]
    public void Add_ValueAboveThirtyDays_IsCapped()
    {
        var histogram = new LatencyHistogram();
        histogram.Add(long.MaxValue);
        var estimate = histogram.Quantile(1)!.Value;
        (Math.Abs(estimate - LatencyHistogram.MaxMicros) / LatencyHistogram.MaxMicros).ShouldBeLessThan(0.01);
    }

    [Fact]
    public void Add_Negative_Throws()
    {
        Should.Throw<ArgumentOutOfRangeException>(() => new LatencyHistogram().Add(-1));
    }

    [Fact]
    public void Add_WithCount_EqualsRepeatedAdd()
    {
        var once = new LatencyHistogram();
        once.Add(1234, 5);
        var repeated = new LatencyHistogram();
        for (var i = 0; i < 5; i++)
        {
            repeated.Add(1234);
        }

        once.ContentEquals(repeated).ShouldBeTrue();
        once.ToBytes().ShouldBe(repeated.ToBytes());
    }

    [Fact]
    public void Merge_PerBucketHistograms_EqualsHistogramOfUnion()
    {
        var random = new Random(11);
        var values = Sample("lognormal", random, Samples);
        var union = new LatencyHistogram();
        var parts = Enumerable.Range(0, 24).Select(_ => new LatencyHistogram()).ToArray();
        foreach (var value in values)
        {
            union.Add(value);
            parts[random.Next(parts.Length)].Add(value);
        }

        var forward = new LatencyHistogram();
        foreach (var part in parts)
        {
            forward.Merge(part);
        }

        var backward = new LatencyHistogram();
        foreach (var part in parts.Reverse())
        {
            backward.Merge(part);
        }

        forward.ToBytes().ShouldBe(union.ToBytes());
        backward.ToBytes().ShouldBe(union.ToBytes());
        forward.Count.ShouldBe(union.Count);
    }

    [Fact]
    public void Merge_Empty_ChangesNothing()
    {
        var histogram = new LatencyHistogram();
        histogram.Add(42);
        var before = histogram.ToBytes();
        histogram.Merge(new LatencyHistogram());
        histogram.ToBytes().ShouldBe(before);
    }

    [Fact]
    public void Remove_UndoesAdd()
    {
        var random = new Random(5);
        var kept = new LatencyHistogram();
        var histogram = new LatencyHistogram();
        var removed = new List<long>();
        foreach (var value in Sample("pareto", random, 20_000))
        {
            histogram.Add(value);
            if (random.Next(3) == 0)
            {
                removed.Add(value);
            }
            else
            {
                kept.Add(value);
            }
        }

        foreach (var value in removed)
        {
            histogram.Remove(value);
        }

        histogram.ToBytes().ShouldBe(kept.ToBytes());
        histogram.Count.ShouldBe(kept.Count);
    }

    [Fact]
    public void Remove_AllValues_LeavesEmptyHistogram()
    {
        var histogram = new LatencyHistogram();
        histogram.Add(0);
        histogram.Add(1_000_000, 3);
        histogram.Remove(0);
        histogram.Remove(1_000_000, 3);
        histogram.IsEmpty.ShouldBeTrue();
        histogram.ToBytes().ShouldBe(new LatencyHistogram().ToBytes());
    }

    [Fact]
    public void Remove_SomethingNeverAdded_Throws()
    {
        var histogram = new LatencyHistogram();
        histogram.Add(1000);
        Should.Throw<InvalidOperationException>(() => histogram.Remove(5_000_000));
        Should.Throw<InvalidOperationException>(() => histogram.Remove(1000, 2));
        Should.Throw<InvalidOperationException>(() => new LatencyHistogram().Remove(0));
        histogram.Count.ShouldBe(1);
    }

    [Fact]
    public void Subtract_UndoesMerge()
    {
        var random = new Random(9);
        var a = new LatencyHistogram();
        var b = new LatencyHistogram();
        foreach (var value in Sample("bimodal", random, 10_000))
        {
            (random.Next(2) == 0 ? a : b).Add(value);
        }

        var merged = a.Clone();
        merged.Merge(b);
        merged.Subtract(b);
        merged.ContentEquals(a).ShouldBeTrue();
        merged.ToBytes().ShouldBe(a.ToBytes());
        merged.Subtract(a);
        merged.IsEmpty.ShouldBeTrue();
    }

    [Fact]
    public void Subtract_MoreThanHeld_ThrowsAndChangesNothing()
    {
        var histogram = new LatencyHistogram();
        histogram.Add(10);
        histogram.Add(20_000);
        var other = new LatencyHistogram();
        other.Add(10);
        other.Add(20_000, 2);
        var before = histogram.ToBytes();

        Should.Throw<InvalidOperationException>(() => histogram.Subtract(other));

        histogram.ToBytes().ShouldBe(before);
        histogram.Count.ShouldBe(2);
    }

    [Theory]
    [MemberData(nameof(Distributions))]
    public void ToBytes_RoundTrips(string distribution)
    {
        var histogram = new LatencyHistogram();
        foreach (var value in Sample(distribution, new Random(3), 10_000))
        {
            histogram.Add(value);
        }

        var bytes = histogram.ToBytes();
        var copy = LatencyHistogram.FromBytes(bytes);

        copy.ContentEquals(histogram).ShouldBeTrue();
        copy.ToBytes().ShouldBe(bytes);
        copy.Count.ShouldBe(histogram.Count);
        copy.Quantile(0.99).ShouldBe(histogram.Quantile(0.99));
    }

    [Fact]
    public void ToBytes_Empty_RoundTrips()
    {
        var bytes = new LatencyHistogram().ToBytes();
        bytes.ShouldBe(new byte[] { LatencyHistogram.FormatVersion, 0 });
        LatencyHistogram.FromBytes(bytes).IsEmpty.ShouldBeTrue();
    }

    [Fact]
    public void ToBytes_AThousandBuckets_StaysSmall()
    {
        var random = new Random(1);
        var histogram = new LatencyHistogram();
        for (var index = 0; index < 1000; index++)
        {
            histogram.Add(LatencyHistogram.LowerBound(index * 2), random.Next(1, 10_000));
        }

        histogram.BucketCount.ShouldBe(1000);
        histogram.ToBytes().Length.ShouldBeLessThan(4096);
    }

    [Fact]
    public void FromBytes_RandomBytes_OnlyEverThrowsFormatException()
    {
        var random = new Random(2024);
        var valid = new LatencyHistogram();
        foreach (var value in Sample("lognormal", random, 2000))
        {
            valid.Add(value);
        }

        var validBytes = valid.ToBytes();
        var accepted = 0;
        for (var i = 0; i < 20_000; i++)
        {
            byte[] bytes;
            if (i % 2 == 0)
            {
                bytes = new byte[random.Next(0, 48)];
                random.NextBytes(bytes);
                if (bytes.Length > 0 && random.Next(2) == 0)
                {
                    bytes[0] = LatencyHistogram.FormatVersion;
                }
            }
            else
            {
                bytes = validBytes[..random.Next(0, validBytes.Length + 1)];
                if (bytes.Length > 0)
                {
                    bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                }
            }

            try
            {
                var histogram = LatencyHistogram.FromBytes(bytes);
                accepted++;
                histogram.ToBytes().ShouldBe(bytes, "a histogram that parses has exactly one encoding");
            }
            catch (FormatException)
            {
            }
        }

        accepted.ShouldBeGreaterThan(0);
    }

    [Theory]
    [InlineData(new byte[] { 2, 0 })]
    [InlineData(new byte[] { 1 })]
    [InlineData(new byte[] { 1, 1, 5 })]
    [InlineData(new byte[] { 1, 1, 5, 0 })]
    [InlineData(new byte[] { 1, 2, 5, 1, 0, 1 })]
    [InlineData(new byte[] { 1, 1, 5, 1, 9 })]
    [InlineData(new byte[] { 1, 1, 0xFF, 0x7F, 1 })]
    [InlineData(new byte[] { 1, 1, 5, 0x80, 0x00 })]
    [InlineData(new byte[] { 1, 1, 5, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 })]
    [InlineData(new byte[] { 1, 2, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 1, 1 })]
    public void FromBytes_CorruptInput_ThrowsFormatException(byte[] bytes)
    {
        Should.Throw<FormatException>(() => LatencyHistogram.FromBytes(bytes));
    }

    private static double ExactNearestRank(long[] sorted, double q)
    {
        var rank = Math.Clamp((long)Math.Ceiling(q * sorted.Length), 1, sorted.Length);
        return sorted[rank - 1];
    }

    private static long[] Sample(string distribution, Random random, int count)
    {
        var values = new long[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = distribution switch
            {
                "lognormal" => (long)Math.Exp(Math.Log(1_500_000) + (1.2 * Normal(random))),
                "pareto" => (long)(1000 / Math.Pow(1 - random.NextDouble(), 1 / 1.1)),
                "bimodal" => random.Next(10) < 7
                    ? (long)Math.Max(0, 40_000 + (5_000 * Normal(random)))
                    : (long)Math.Max(0, 4_500_000 + (900_000 * Normal(random))),
                "all-equal" => 123_457,
                "tiny" => random.Next(1, 11),
                "huge" => (long)(LatencyHistogram.MaxMicros * (0.05 + (0.95 * random.NextDouble()))),
                "uniform-wide" => random.NextInt64(0, 10_000_000_000),
                "zeros-and-ones" => random.Next(2),
                _ => throw new ArgumentOutOfRangeException(nameof(distribution)),
            };
        }

        return values;
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
