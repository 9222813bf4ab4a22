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
    /// <summary>Bucket sizes kept at write time, in seconds: 5 minutes and 1 day.</summary>
    public static IReadOnlyList<long> BucketSizes { get; } = [300, 86_400];

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
        foreach (var size in BucketSizes)
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
