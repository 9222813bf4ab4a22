using RunLedger.Core.Rollups;

namespace RunLedger.Sqlite;

internal sealed partial class SqliteWriter
{
    private void FlushRollups(RollupDeltas deltas)
    {
        var cmd = Cmd;
        foreach (var (key, delta) in deltas.Items)
        {
            BindRollupKey(cmd.SelectRollup, key);
            var stored = new RollupFigures();
            using (var reader = cmd.SelectRollup.ExecuteReader())
            {
                if (reader.Read())
                {
                    stored.Count = reader.GetInt64(0);
                    stored.Errors = reader.GetInt64(1);
                    stored.InputTokens = reader.GetInt64(2);
                    stored.OutputTokens = reader.GetInt64(3);
                    stored.CostNanos = reader.GetInt64(4);
                    stored.DurationCount = reader.GetInt64(5);
                    stored.DurationSum = reader.GetInt64(6);
                    stored.Widen(reader.IsDBNull(7) ? null : reader.GetInt64(7), reader.IsDBNull(8) ? null : reader.GetInt64(8));
                    if (!reader.IsDBNull(9))
                    {
                        stored.Histogram.Merge(LatencyHistogram.FromBytes((byte[])reader.GetValue(9)));
                    }
                }
            }

            if (!stored.ApplyDelta(delta))
            {
                BindRollupKey(cmd.DeleteRollup, key);
                cmd.DeleteRollup.ExecuteNonQuery();
                continue;
            }

            var upsert = cmd.UpsertRollup;
            BindRollupKey(upsert, key);
            Set(upsert, "@count", stored.Count);
            Set(upsert, "@errors", stored.Errors);
            Set(upsert, "@itok", stored.InputTokens);
            Set(upsert, "@otok", stored.OutputTokens);
            Set(upsert, "@cost", stored.CostNanos);
            Set(upsert, "@dcount", stored.DurationCount);
            Set(upsert, "@dsum", stored.DurationSum);
            Set(upsert, "@dmin", stored.DurationCount == 0 ? null : stored.DurationMin);
            Set(upsert, "@dmax", stored.DurationCount == 0 ? null : stored.DurationMax);
            Set(upsert, "@hist", stored.Histogram.IsEmpty ? null : stored.Histogram.ToBytes());
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
}
