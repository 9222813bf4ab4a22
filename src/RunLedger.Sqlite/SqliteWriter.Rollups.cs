using System.Buffers;
using RunLedger.Core.Rollups;

namespace RunLedger.Sqlite;

internal sealed partial class SqliteWriter
{
    /// <summary>
    /// Most rollup rows kept in memory; beyond it the cache starts again empty. Live traffic
    /// touches the open 5-minute and daily buckets of each (kind, name, model, status), a few
    /// hundred rows; each row holds a latency histogram (up to a few KB), so a cache of every
    /// bucket ever touched cost about 45 MiB of resident memory during a 50,000-run ingest.
    /// </summary>
    private const int MaxCachedRollups = 4_096;

    /// <summary>
    /// The stored figures of the rollup rows this writer last read or wrote, so a commit group
    /// writes its changed rows without reading them back first. The writer connection is the only
    /// one that writes rollups while the store is open; the cache is dropped when anything else may
    /// have changed them: an admin action on the writer connection (import, clear), a failed group,
    /// or a commit by another connection or process (<c>PRAGMA data_version</c> moved).
    /// </summary>
    private readonly Dictionary<RollupKey, RollupFigures> _rollupCache = [];

    private long _dataVersion = -1;

    /// <summary>Forgets every cached rollup row; the next group reads the rows it changes from the table.</summary>
    private void ForgetRollups() => _rollupCache.Clear();

    /// <summary>Drops the cache when another connection committed since this writer last looked.</summary>
    private void CheckDataVersion()
    {
        var version = Cmd.DataVersion.ExecuteScalarInt64() ?? 0;
        if (version != _dataVersion || _rollupCache.Count > MaxCachedRollups)
        {
            _rollupCache.Clear();
            if (version != _dataVersion)
            {
                // Another connection wrote: it may have removed metadata entries too.
                ForgetMetadataKeys();
            }

            _dataVersion = version;
        }
    }

    private void FlushRollups(RollupDeltas deltas)
    {
        var cmd = Cmd;
        foreach (var (key, delta) in deltas.Items)
        {
            if (!_rollupCache.TryGetValue(key, out var stored))
            {
                stored = ReadRollup(cmd, key);
                _rollupCache[key] = stored;
            }

            if (!stored.ApplyDelta(delta))
            {
                _rollupCache.Remove(key);
                BindRollupKey(cmd.DeleteRollup, key);
                cmd.DeleteRollup.ExecuteNonQuery();
                continue;
            }

            if (stored.DurationCount == 0)
            {
                // What the row stores (and a read would give back): no bounds without durations.
                stored.DurationMin = null;
                stored.DurationMax = null;
            }

            var upsert = cmd.UpsertRollup;
            upsert.Bind(1, key.ProjectId);
            upsert.Bind(2, key.BucketSize);
            upsert.Bind(3, key.BucketStart);
            upsert.Bind(4, key.Kind);
            upsert.Bind(5, key.Name);
            upsert.Bind(6, key.Model);
            upsert.Bind(7, key.Status);
            upsert.Bind(8, stored.Count);
            upsert.Bind(9, stored.Errors);
            upsert.Bind(10, stored.InputTokens);
            upsert.Bind(11, stored.OutputTokens);
            upsert.Bind(12, stored.CostNanos);
            upsert.Bind(13, stored.DurationCount);
            upsert.Bind(14, stored.DurationSum);
            upsert.Bind(15, stored.DurationMin);
            upsert.Bind(16, stored.DurationMax);
            BindHistogram(upsert, 17, stored.Histogram);
            upsert.ExecuteNonQuery();
        }

        deltas.Clear();
    }

    /// <summary>
    /// Binds a histogram's stored form (NULL when empty), written into a pooled buffer: SQLite
    /// copies it when bound, and every rollup row of every group has one.
    /// </summary>
    private static void BindHistogram(RawStatement statement, int position, LatencyHistogram histogram)
    {
        if (histogram.IsEmpty)
        {
            statement.Bind(position, (byte[]?)null);
            return;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(histogram.MaxByteCount);
        try
        {
            statement.BindBlob(position, buffer.AsSpan(0, histogram.WriteTo(buffer)));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The stored figures of one rollup row; empty figures when there is no row.</summary>
    private static RollupFigures ReadRollup(Commands cmd, RollupKey key)
    {
        var select = cmd.SelectRollup;
        BindRollupKey(select, key);
        var stored = new RollupFigures();
        try
        {
            if (select.Read())
            {
                stored.Count = select.Int64(0);
                stored.Errors = select.Int64(1);
                stored.InputTokens = select.Int64(2);
                stored.OutputTokens = select.Int64(3);
                stored.CostNanos = select.Int64(4);
                stored.DurationCount = select.Int64(5);
                stored.DurationSum = select.Int64(6);
                stored.Widen(select.IsNull(7) ? null : select.Int64(7), select.IsNull(8) ? null : select.Int64(8));
                if (!select.IsNull(9))
                {
                    stored.Histogram.Merge(LatencyHistogram.FromBytes(select.Blob(9)));
                }
            }
        }
        finally
        {
            // The key is the primary key: at most one row, so the statement is done either way.
            select.Reset();
        }

        return stored;
    }

    private static void BindRollupKey(RawStatement statement, RollupKey key)
    {
        statement.Bind(1, key.ProjectId);
        statement.Bind(2, key.BucketSize);
        statement.Bind(3, key.BucketStart);
        statement.Bind(4, key.Kind);
        statement.Bind(5, key.Name);
        statement.Bind(6, key.Model);
        statement.Bind(7, key.Status);
    }
}
