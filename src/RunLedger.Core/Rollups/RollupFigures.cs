using System.Data.Common;
using RunLedger.Core.Storage;

namespace RunLedger.Core.Rollups;

/// <summary>
/// The figures a rollup row keeps for a set of runs. The writer adds and takes out runs as they
/// change; the stats reader adds runs or whole rollup rows together.
/// </summary>
public sealed class RollupFigures
{
    public long Count { get; set; }

    public long Errors { get; set; }

    public long InputTokens { get; set; }

    public long OutputTokens { get; set; }

    public long CostNanos { get; set; }

    public long DurationCount { get; set; }

    public long DurationSum { get; set; }

    /// <summary>Bounds only: they widen as runs come in and do not narrow when a run leaves.</summary>
    public long? DurationMin { get; set; }

    public long? DurationMax { get; set; }

    /// <summary>Durations of the runs added.</summary>
    public LatencyHistogram Histogram { get; } = new();

    /// <summary>
    /// Durations of the runs taken out (the writer subtracts them from the stored histogram).
    /// Made when first needed: only updates of stored runs take durations out, and the writer
    /// makes figures for every bucket of every new run.
    /// </summary>
    public LatencyHistogram Removed => _removed ??= new();

    private LatencyHistogram? _removed;

    /// <summary>Adds one run (<paramref name="sign"/> +1) or takes it out (-1).</summary>
    public void AddRun(bool isError, long inputTokens, long outputTokens, long costNanos, long? durationMicros, int sign = 1)
    {
        Count += sign;
        Errors += isError ? sign : 0;
        InputTokens += sign * inputTokens;
        OutputTokens += sign * outputTokens;
        CostNanos += sign * costNanos;
        if (durationMicros is not { } duration)
        {
            return;
        }

        DurationCount += sign;
        DurationSum += sign * duration;
        if (sign > 0)
        {
            Widen(duration, duration);
            Histogram.Add(duration);
        }
        else
        {
            Removed.Add(duration);
        }
    }

    /// <summary>
    /// Applies a writer's delta to the figures of a stored rollup row; false when no run is left
    /// in it (the row goes). Min and max only ever widen: a run that leaves a bucket cannot narrow
    /// them without rescanning rows, so they are bounds. Percentiles come from the histogram,
    /// which subtracts exactly.
    /// </summary>
    public bool ApplyDelta(RollupFigures delta)
    {
        ArgumentNullException.ThrowIfNull(delta);
        Count += delta.Count;
        if (Count <= 0)
        {
            return false;
        }

        Errors += delta.Errors;
        InputTokens += delta.InputTokens;
        OutputTokens += delta.OutputTokens;
        CostNanos += delta.CostNanos;
        DurationCount += delta.DurationCount;
        DurationSum += delta.DurationSum;
        Widen(delta.DurationMin, delta.DurationMax);
        Histogram.Merge(delta.Histogram);
        if (delta._removed is { } removed)
        {
            Histogram.Subtract(removed);
        }
        return true;
    }

    public void Add(RollupFigures other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Count += other.Count;
        Errors += other.Errors;
        InputTokens += other.InputTokens;
        OutputTokens += other.OutputTokens;
        CostNanos += other.CostNanos;
        DurationCount += other.DurationCount;
        DurationSum += other.DurationSum;
        Widen(other.DurationMin, other.DurationMax);
        Histogram.Merge(other.Histogram);
        if (other._removed is { } removed)
        {
            Removed.Merge(removed);
        }
    }

    public void Widen(long? min, long? max)
    {
        DurationMin = min is { } m ? (DurationMin is { } current ? Math.Min(current, m) : m) : DurationMin;
        DurationMax = max is { } x ? (DurationMax is { } current2 ? Math.Max(current2, x) : x) : DurationMax;
    }

    /// <summary>
    /// The figures of a stored rollup row whose columns, from <paramref name="first"/> on, are
    /// count, errors, input_tokens, output_tokens, cost_nanos, duration_count, duration_sum,
    /// duration_min, duration_max and histogram (the rollups table's order).
    /// </summary>
    public static RollupFigures Read(DbDataReader reader, int first)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var figures = new RollupFigures
        {
            Count = reader.GetInt64(first),
            Errors = reader.GetInt64(first + 1),
            InputTokens = reader.GetInt64(first + 2),
            OutputTokens = reader.GetInt64(first + 3),
            CostNanos = reader.GetInt64(first + 4),
            DurationCount = reader.GetInt64(first + 5),
            DurationSum = reader.GetInt64(first + 6),
        };
        figures.Widen(reader.IsDBNull(first + 7) ? null : reader.GetInt64(first + 7), reader.IsDBNull(first + 8) ? null : reader.GetInt64(first + 8));
        if (!reader.IsDBNull(first + 9))
        {
            figures.Histogram.Merge(LatencyHistogram.FromBytes(reader.GetFieldValue<byte[]>(first + 9)));
        }

        return figures;
    }
}
