using RunLedger.Core.Model;
using RunLedger.Core.Rollups;

namespace RunLedger.Sqlite;

internal sealed partial class SqliteWriter
{
    /// <summary>Bucket sizes kept at write time, in seconds: 5 minutes and 1 day.</summary>
    internal static readonly long[] BucketSizes = [300, 86_400];

    /// <summary>
    /// Moves a run's contribution to the rollups from its old state to its new one. Changes are
    /// gathered in memory for the whole group and written once per bucket row at commit.
    /// </summary>
    private void ApplyRunToRollups(long projectId, RunRow? existing, RunRow row)
    {
        if (existing is not null)
        {
            Contribute(projectId, existing, -1);
        }

        Contribute(projectId, row, +1);
    }

    private void Contribute(long projectId, RunRow row, int sign)
    {
        var isError = WireNames.ParseStatus(row.Status).IsError();
        foreach (var size in BucketSizes)
        {
            var sizeUs = size * 1_000_000;
            var start = row.StartedAt - Mod(row.StartedAt, sizeUs);
            var key = new RollupKey(projectId, size, start, row.Kind, row.Name ?? string.Empty, row.Model ?? string.Empty, row.Status);
            if (!_batchRollups.TryGetValue(key, out var delta))
            {
                delta = new RollupFigures();
                _batchRollups[key] = delta;
            }

            delta.AddRun(isError, row.InputTokens ?? 0, row.OutputTokens ?? 0, row.CostNanos ?? 0, row.DurationUs, sign);
        }
    }

    private static long Mod(long value, long size)
    {
        var m = value % size;
        return m < 0 ? m + size : m;
    }

    private static void MergeRollups(Dictionary<RollupKey, RollupFigures> from, Dictionary<RollupKey, RollupFigures> into)
    {
        foreach (var (key, delta) in from)
        {
            if (into.TryGetValue(key, out var existing))
            {
                existing.Add(delta);
            }
            else
            {
                into[key] = delta;
            }
        }

        from.Clear();
    }

    private void FlushRollups(Dictionary<RollupKey, RollupFigures> deltas)
    {
        var cmd = Cmd;
        foreach (var (key, delta) in deltas)
        {
            BindRollupKey(cmd.SelectRollup, key);
            long count = 0, errors = 0, itok = 0, otok = 0, cost = 0, dcount = 0, dsum = 0;
            long? dmin = null, dmax = null;
            LatencyHistogram histogram;
            using (var reader = cmd.SelectRollup.ExecuteReader())
            {
                if (reader.Read())
                {
                    count = reader.GetInt64(0);
                    errors = reader.GetInt64(1);
                    itok = reader.GetInt64(2);
                    otok = reader.GetInt64(3);
                    cost = reader.GetInt64(4);
                    dcount = reader.GetInt64(5);
                    dsum = reader.GetInt64(6);
                    dmin = reader.IsDBNull(7) ? null : reader.GetInt64(7);
                    dmax = reader.IsDBNull(8) ? null : reader.GetInt64(8);
                    histogram = reader.IsDBNull(9) ? new LatencyHistogram() : LatencyHistogram.FromBytes((byte[])reader.GetValue(9));
                }
                else
                {
                    histogram = new LatencyHistogram();
                }
            }

            count += delta.Count;
            if (count <= 0)
            {
                BindRollupKey(cmd.DeleteRollup, key);
                cmd.DeleteRollup.ExecuteNonQuery();
                continue;
            }

            errors += delta.Errors;
            itok += delta.InputTokens;
            otok += delta.OutputTokens;
            cost += delta.CostNanos;
            dcount += delta.DurationCount;
            dsum += delta.DurationSum;

            // Min and max only ever widen: a run that leaves a bucket cannot narrow them
            // without rescanning rows, so they are bounds. Percentiles come from the
            // histogram, which subtracts exactly.
            dmin = delta.DurationMin is { } newMin ? (dmin is { } oldMin ? Math.Min(oldMin, newMin) : newMin) : dmin;
            dmax = delta.DurationMax is { } newMax ? (dmax is { } oldMax ? Math.Max(oldMax, newMax) : newMax) : dmax;
            histogram.Merge(delta.Histogram);
            histogram.Subtract(delta.Removed);

            var upsert = cmd.UpsertRollup;
            BindRollupKey(upsert, key);
            Set(upsert, "@count", count);
            Set(upsert, "@errors", errors);
            Set(upsert, "@itok", itok);
            Set(upsert, "@otok", otok);
            Set(upsert, "@cost", cost);
            Set(upsert, "@dcount", dcount);
            Set(upsert, "@dsum", dsum);
            Set(upsert, "@dmin", dcount == 0 ? null : dmin);
            Set(upsert, "@dmax", dcount == 0 ? null : dmax);
            Set(upsert, "@hist", histogram.IsEmpty ? null : histogram.ToBytes());
            upsert.ExecuteNonQuery();
        }

        deltas.Clear();
    }

    private static void BindRollupKey(Microsoft.Data.Sqlite.SqliteCommand command, RollupKey key)
    {
        Set(command, "@p", key.ProjectId);
        Set(command, "@size", key.BucketSize);
        Set(command, "@start", key.BucketStart);
        Set(command, "@kind", key.Kind);
        Set(command, "@name", key.Name);
        Set(command, "@model", key.Model);
        Set(command, "@status", key.Status);
    }

    private readonly record struct RollupKey(long ProjectId, long BucketSize, long BucketStart, string Kind, string Name, string Model, string Status);
}
