using RunLedger.Core.Rollups;

namespace RunLedger.Core.Storage;

/// <summary>
/// Stats figures being added up from runs and rollup rows: plain sums, the largest duration and
/// a dense latency histogram, so a stored rollup row (or many, summed in SQL with their
/// histograms back to back) is added without building a <see cref="RollupFigures"/> for it.
/// </summary>
public sealed class StatsSum
{
    public long Count { get; private set; }

    public long Errors { get; private set; }

    public long InputTokens { get; private set; }

    public long OutputTokens { get; private set; }

    public long CostNanos { get; private set; }

    public long DurationCount { get; private set; }

    public long DurationSum { get; private set; }

    /// <summary>From rollups an upper bound: a bucket's maximum does not narrow when a run leaves it.</summary>
    public long? DurationMax { get; private set; }

    public LatencyHistogramSum Histogram { get; } = new();

    /// <summary>Adds one run.</summary>
    public void AddRun(bool isError, long inputTokens, long outputTokens, long costNanos, long? durationMicros)
    {
        Count++;
        Errors += isError ? 1 : 0;
        InputTokens += inputTokens;
        OutputTokens += outputTokens;
        CostNanos += costNanos;
        if (durationMicros is { } duration)
        {
            DurationCount++;
            DurationSum += duration;
            WidenMax(duration);
            Histogram.Add(duration);
        }
    }

    /// <summary>
    /// Adds the figures of rollup rows (one, or many summed): the sums as stored, the largest
    /// maximum, and their histograms as stored bytes, back to back (empty when none).
    /// </summary>
    public void AddRollup(long count, long errors, long inputTokens, long outputTokens, long costNanos, long durationCount, long durationSum, long? durationMax, ReadOnlySpan<byte> histograms)
    {
        AddSums(count, errors, inputTokens, outputTokens, costNanos, durationCount, durationSum, durationMax);
        Histogram.AddBytes(histograms);
    }

    public void Add(StatsSum other)
    {
        ArgumentNullException.ThrowIfNull(other);
        AddSums(other.Count, other.Errors, other.InputTokens, other.OutputTokens, other.CostNanos, other.DurationCount, other.DurationSum, other.DurationMax);
        Histogram.Add(other.Histogram);
    }

    private void AddSums(long count, long errors, long inputTokens, long outputTokens, long costNanos, long durationCount, long durationSum, long? durationMax)
    {
        Count += count;
        Errors += errors;
        InputTokens += inputTokens;
        OutputTokens += outputTokens;
        CostNanos += costNanos;
        DurationCount += durationCount;
        DurationSum += durationSum;
        if (durationMax is { } max)
        {
            WidenMax(max);
        }
    }

    public StatsFigures ToFigures() => new()
    {
        Count = Count,
        Errors = Errors,
        InputTokens = InputTokens,
        OutputTokens = OutputTokens,
        CostUsd = StorageUnits.FromNanos(CostNanos),
        AvgMs = DurationCount == 0 ? null : Math.Round(DurationSum / (double)DurationCount / 1000.0, 3),
        P50Ms = Millis(Histogram.Quantile(0.50)),
        P95Ms = Millis(Histogram.Quantile(0.95)),
        P99Ms = Millis(Histogram.Quantile(0.99)),
        MaxMs = DurationMax is { } max ? StorageUnits.MicrosToMillis(max) : null,
    };

    private void WidenMax(long value) => DurationMax = DurationMax is { } current ? Math.Max(current, value) : value;

    private static double? Millis(double? micros) => micros is { } us ? Math.Round(us / 1000.0, 3) : null;
}
