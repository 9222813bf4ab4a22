using RunLedger.Core.Storage;

namespace RunLedger.Core.Rollups;

/// <summary>The key of one rollup row. Name and model are '' when the run has none.</summary>
public readonly record struct RollupKey(long ProjectId, long BucketSize, long BucketStart, string Kind, string Name, string Model, string Status);

/// <summary>
/// Changes to rollup rows gathered in memory while runs are written: each run change takes the
/// run's old state out of its buckets and adds its new one. A store writes them once per bucket
/// row at commit.
/// </summary>
public sealed class RollupDeltas
{
    /// <summary>The 5-minute bucket size, in seconds.</summary>
    public const long FiveMinutes = 300;

    /// <summary>The hourly bucket size, in seconds.</summary>
    public const long Hour = 3_600;

    /// <summary>The daily bucket size, in seconds.</summary>
    public const long Day = 86_400;

    /// <summary><see cref="BucketSizes"/> as an array, for the loop every run change goes through.</summary>
    private static readonly long[] Sizes = [FiveMinutes, Hour, Day];

    /// <summary>
    /// Bucket sizes kept at write time, in seconds: 5 minutes, 1 hour and 1 day. Stats read the
    /// coarsest that fits each part of a window, so the whole hours of a day come from at most 23
    /// hourly buckets instead of 276 5-minute ones.
    /// </summary>
    public static IReadOnlyList<long> BucketSizes { get; } = Array.AsReadOnly(Sizes);

    private readonly Dictionary<RollupKey, RollupFigures> _deltas = [];

    public int Count => _deltas.Count;

    public IEnumerable<KeyValuePair<RollupKey, RollupFigures>> Items => _deltas;

    /// <summary>Moves a run's contribution from its old state (null when new) to its new one.</summary>
    public void ApplyRun(long projectId, RunRow? existing, RunRow row)
    {
        if (existing is not null)
        {
            Contribute(projectId, existing, -1);
        }

        Contribute(projectId, row, +1);
    }

    /// <summary>Adds every delta of this set to <paramref name="into"/> and empties this set.</summary>
    public void MoveTo(RollupDeltas into)
    {
        ArgumentNullException.ThrowIfNull(into);
        foreach (var (key, delta) in _deltas)
        {
            if (into._deltas.TryGetValue(key, out var existing))
            {
                existing.Add(delta);
            }
            else
            {
                into._deltas[key] = delta;
            }
        }

        _deltas.Clear();
    }

    public void Clear() => _deltas.Clear();

    /// <summary>The start of the bucket of <paramref name="size"/> units holding <paramref name="time"/> (floor, also for negative times).</summary>
    public static long BucketStart(long time, long size)
    {
        var m = time % size;
        return time - (m < 0 ? m + size : m);
    }

    private void Contribute(long projectId, RunRow row, int sign)
    {
        var isError = RunMerge.IsError(row);

        // Over the array, not the read-only list: a foreach over the interface boxed an
        // enumerator for every run change.
        foreach (var size in Sizes)
        {
            var start = BucketStart(row.StartedAt, size * 1_000_000);
            var key = new RollupKey(projectId, size, start, row.Kind, row.Name ?? string.Empty, row.Model ?? string.Empty, row.Status);
            if (!_deltas.TryGetValue(key, out var delta))
            {
                delta = new RollupFigures();
                _deltas[key] = delta;
            }

            delta.AddRun(isError, row.InputTokens ?? 0, row.OutputTokens ?? 0, row.CostNanos ?? 0, row.DurationUs, sign);
        }
    }
}
