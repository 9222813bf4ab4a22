namespace RunLedger.Core.Rollups;

/// <summary>
/// Adds stored 5-minute rollup rows up into the hourly rows they make, for a ledger written
/// before the hourly tier existed (the migration that adds it, and anything else that has only
/// 5-minute rows). Rows come in the table's key order (project, bucket start, kind, name, model,
/// status), so an hour is complete when a row of a later hour or another project arrives; only
/// the open hour is held in memory. Histograms merge exactly and min/max widen, so each hourly
/// row is what the writer would have kept had the tier existed when the runs were written.
/// </summary>
public sealed class HourlyRollupFold
{
    private const long HourUs = RollupDeltas.Hour * 1_000_000;

    private readonly Dictionary<RollupKey, RollupFigures> _open = [];
    private long _project = long.MinValue;
    private long _hour = long.MinValue;

    /// <summary>
    /// Adds one 5-minute row; returns the hourly rows completed by it (those of the hour before,
    /// when this row starts a new hour), in key order, else an empty list.
    /// </summary>
    public IReadOnlyList<KeyValuePair<RollupKey, RollupFigures>> Add(RollupKey key, RollupFigures figures)
    {
        ArgumentNullException.ThrowIfNull(figures);
        if (key.BucketSize != RollupDeltas.FiveMinutes)
        {
            throw new ArgumentException($"Only 5-minute rows fold into hours; this one is of {key.BucketSize} s.", nameof(key));
        }

        var hour = RollupDeltas.BucketStart(key.BucketStart, HourUs);
        IReadOnlyList<KeyValuePair<RollupKey, RollupFigures>> completed = [];
        if (key.ProjectId != _project || hour != _hour)
        {
            if (key.ProjectId < _project || (key.ProjectId == _project && hour < _hour))
            {
                throw new InvalidOperationException("5-minute rollup rows must come in key order (project, bucket start).");
            }

            completed = Complete();
            _project = key.ProjectId;
            _hour = hour;
        }

        var hourly = key with { BucketSize = RollupDeltas.Hour, BucketStart = hour };
        if (!_open.TryGetValue(hourly, out var sum))
        {
            sum = new RollupFigures();
            _open[hourly] = sum;
        }

        sum.Add(figures);
        return completed;
    }

    /// <summary>The rows of the open hour, in key order; the fold is then empty.</summary>
    public IReadOnlyList<KeyValuePair<RollupKey, RollupFigures>> Complete()
    {
        var rows = _open
            .OrderBy(r => r.Key.Kind, StringComparer.Ordinal)
            .ThenBy(r => r.Key.Name, StringComparer.Ordinal)
            .ThenBy(r => r.Key.Model, StringComparer.Ordinal)
            .ThenBy(r => r.Key.Status, StringComparer.Ordinal)
            .ToList();
        _open.Clear();
        return rows;
    }
}
