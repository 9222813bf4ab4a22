using Npgsql;
using NpgsqlTypes;
using RunLedger.Core.Rollups;

namespace RunLedger.Postgres;

internal sealed partial class PostgresWriter
{
    /// <summary>
    /// Adds the group's rollup deltas to the stored rows: one query reads every touched row, the
    /// figures are merged in memory (histograms are a Core format), one round trip writes them.
    /// Safe between replicas because the group holds <see cref="EventOrderLockKey"/>.
    /// </summary>
    private static async Task FlushRollupsAsync(NpgsqlConnection connection, RollupDeltas deltas, CancellationToken cancellationToken)
    {
        if (deltas.Count == 0)
        {
            return;
        }

        var items = deltas.Items.ToList();
        var stored = new Dictionary<RollupKey, RollupFigures>();
        await using (var select = new NpgsqlCommand(
            "SELECT k.project_id, k.bucket_size, k.bucket_start, k.kind, k.name, k.model, k.status, u.count, u.errors, u.input_tokens, u.output_tokens, " +
            "u.cost_nanos, u.duration_count, u.duration_sum, u.duration_min, u.duration_max, u.histogram " +
            "FROM unnest(@p, @size, @start, @kind, @name, @model, @status) AS k(project_id, bucket_size, bucket_start, kind, name, model, status) " +
            "JOIN rollups u ON u.project_id = k.project_id AND u.bucket_size = k.bucket_size AND u.bucket_start = k.bucket_start " +
            "AND u.kind = k.kind AND u.name = k.name AND u.model = k.model AND u.status = k.status",
            connection))
        {
            select.Parameters.AddWithValue("p", items.Select(i => i.Key.ProjectId).ToArray());
            select.Parameters.AddWithValue("size", items.Select(i => i.Key.BucketSize).ToArray());
            select.Parameters.AddWithValue("start", items.Select(i => i.Key.BucketStart).ToArray());
            select.Parameters.AddWithValue("kind", NpgsqlDbType.Array | NpgsqlDbType.Text, items.Select(i => i.Key.Kind).ToArray());
            select.Parameters.AddWithValue("name", NpgsqlDbType.Array | NpgsqlDbType.Text, items.Select(i => i.Key.Name).ToArray());
            select.Parameters.AddWithValue("model", NpgsqlDbType.Array | NpgsqlDbType.Text, items.Select(i => i.Key.Model).ToArray());
            select.Parameters.AddWithValue("status", NpgsqlDbType.Array | NpgsqlDbType.Text, items.Select(i => i.Key.Status).ToArray());
            await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var key = new RollupKey(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetString(3), reader.GetString(4), reader.GetString(5), reader.GetString(6));
                var figures = new RollupFigures
                {
                    Count = reader.GetInt64(7),
                    Errors = reader.GetInt64(8),
                    InputTokens = reader.GetInt64(9),
                    OutputTokens = reader.GetInt64(10),
                    CostNanos = reader.GetInt64(11),
                    DurationCount = reader.GetInt64(12),
                    DurationSum = reader.GetInt64(13),
                };
                figures.Widen(reader.IsDBNull(14) ? null : reader.GetInt64(14), reader.IsDBNull(15) ? null : reader.GetInt64(15));
                if (!reader.IsDBNull(16))
                {
                    figures.Histogram.Merge(LatencyHistogram.FromBytes(reader.GetFieldValue<byte[]>(16)));
                }

                stored[key] = figures;
            }
        }

        await using var batch = new NpgsqlBatch(connection);
        foreach (var (key, delta) in items)
        {
            var figures = stored.GetValueOrDefault(key) ?? new RollupFigures();
            NpgsqlBatchCommand command;
            if (!figures.ApplyDelta(delta))
            {
                command = new NpgsqlBatchCommand(
                    "DELETE FROM rollups WHERE project_id = @p AND bucket_size = @size AND bucket_start = @start AND kind = @kind AND name = @name AND model = @model AND status = @status");
            }
            else
            {
                command = new NpgsqlBatchCommand(
                    "INSERT INTO rollups (project_id, bucket_size, bucket_start, kind, name, model, status, count, errors, input_tokens, output_tokens, cost_nanos, " +
                    "duration_count, duration_sum, duration_min, duration_max, histogram) VALUES (@p, @size, @start, @kind, @name, @model, @status, @count, @errors, " +
                    "@itok, @otok, @cost, @dcount, @dsum, @dmin, @dmax, @hist) ON CONFLICT (project_id, bucket_size, bucket_start, kind, name, model, status) DO UPDATE SET " +
                    "count = excluded.count, errors = excluded.errors, input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens, " +
                    "cost_nanos = excluded.cost_nanos, duration_count = excluded.duration_count, duration_sum = excluded.duration_sum, " +
                    "duration_min = excluded.duration_min, duration_max = excluded.duration_max, histogram = excluded.histogram");
                var values = command.Parameters;
                values.AddWithValue("count", figures.Count);
                values.AddWithValue("errors", figures.Errors);
                values.AddWithValue("itok", figures.InputTokens);
                values.AddWithValue("otok", figures.OutputTokens);
                values.AddWithValue("cost", figures.CostNanos);
                values.AddWithValue("dcount", figures.DurationCount);
                values.AddWithValue("dsum", figures.DurationSum);
                Nullable(values, "dmin", NpgsqlDbType.Bigint, figures.DurationCount == 0 ? null : figures.DurationMin);
                Nullable(values, "dmax", NpgsqlDbType.Bigint, figures.DurationCount == 0 ? null : figures.DurationMax);
                Nullable(values, "hist", NpgsqlDbType.Bytea, figures.Histogram.IsEmpty ? null : figures.Histogram.ToBytes());
            }

            var p = command.Parameters;
            p.AddWithValue("p", key.ProjectId);
            p.AddWithValue("size", key.BucketSize);
            p.AddWithValue("start", key.BucketStart);
            p.AddWithValue("kind", key.Kind);
            p.AddWithValue("name", key.Name);
            p.AddWithValue("model", key.Model);
            p.AddWithValue("status", key.Status);
            batch.BatchCommands.Add(command);
        }

        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
