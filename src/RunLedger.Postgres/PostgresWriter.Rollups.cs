using Npgsql;
using NpgsqlTypes;
using RunLedger.Core.Rollups;
using RollupRecord = RunLedger.Core.Storage.Transfer.RollupRecord;

namespace RunLedger.Postgres;

internal sealed partial class PostgresWriter
{
    /// <summary>
    /// Adds the group's rollup deltas to the stored rows: one query reads every touched row, the
    /// figures are merged in memory (histograms are a Core format), one round trip of two set-based
    /// statements (upsert the remaining rows, delete the emptied ones) writes them.
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
            AddKeys(select.Parameters, [.. items.Select(i => i.Key)]);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var key = new RollupKey(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetString(3), reader.GetString(4), reader.GetString(5), reader.GetString(6));
                stored[key] = RollupFigures.Read(reader, 7);
            }
        }

        var upserts = new List<(RollupKey Key, RollupFigures Figures)>(items.Count);
        var deletes = new List<RollupKey>();
        foreach (var (key, delta) in items)
        {
            var figures = stored.GetValueOrDefault(key) ?? new RollupFigures();
            if (figures.ApplyDelta(delta))
            {
                upserts.Add((key, figures));
            }
            else
            {
                deletes.Add(key);
            }
        }

        // One statement each for the rows that remain and the rows that emptied, however many there are.
        await using var batch = new NpgsqlBatch(connection);
        if (upserts.Count > 0)
        {
            var command = new NpgsqlBatchCommand(PostgresRollupRows.UpsertSql);
            PostgresRollupRows.Bind(command.Parameters, [.. upserts.Select(u => Row(u.Key, u.Figures))], [.. upserts.Select(u => u.Key.ProjectId)]);
            batch.BatchCommands.Add(command);
        }

        if (deletes.Count > 0)
        {
            var command = new NpgsqlBatchCommand(
                "DELETE FROM rollups u USING unnest(@p, @size, @start, @kind, @name, @model, @status) AS k(project_id, bucket_size, bucket_start, kind, name, model, status) " +
                "WHERE u.project_id = k.project_id AND u.bucket_size = k.bucket_size AND u.bucket_start = k.bucket_start " +
                "AND u.kind = k.kind AND u.name = k.name AND u.model = k.model AND u.status = k.status");
            AddKeys(command.Parameters, deletes);
            batch.BatchCommands.Add(command);
        }

        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A merged row as the shared upsert takes it (no duration bounds or histogram when no run had a duration).</summary>
    internal static RollupRecord Row(RollupKey key, RollupFigures figures) => new()
    {
        Project = string.Empty,
        BucketSize = key.BucketSize,
        BucketStart = key.BucketStart,
        Kind = key.Kind,
        Name = key.Name,
        Model = key.Model,
        Status = key.Status,
        Count = figures.Count,
        Errors = figures.Errors,
        InputTokens = figures.InputTokens,
        OutputTokens = figures.OutputTokens,
        CostNanos = figures.CostNanos,
        DurationCount = figures.DurationCount,
        DurationSum = figures.DurationSum,
        DurationMin = figures.DurationCount == 0 ? null : figures.DurationMin,
        DurationMax = figures.DurationCount == 0 ? null : figures.DurationMax,
        Histogram = figures.Histogram.IsEmpty ? null : figures.Histogram.ToBytes(),
    };

    private static void AddKeys(NpgsqlParameterCollection parameters, IReadOnlyList<RollupKey> keys)
    {
        parameters.AddWithValue("p", keys.Select(k => k.ProjectId).ToArray());
        parameters.AddWithValue("size", keys.Select(k => k.BucketSize).ToArray());
        parameters.AddWithValue("start", keys.Select(k => k.BucketStart).ToArray());
        parameters.AddWithValue("kind", NpgsqlDbType.Array | NpgsqlDbType.Text, keys.Select(k => k.Kind).ToArray());
        parameters.AddWithValue("name", NpgsqlDbType.Array | NpgsqlDbType.Text, keys.Select(k => k.Name).ToArray());
        parameters.AddWithValue("model", NpgsqlDbType.Array | NpgsqlDbType.Text, keys.Select(k => k.Model).ToArray());
        parameters.AddWithValue("status", NpgsqlDbType.Array | NpgsqlDbType.Text, keys.Select(k => k.Status).ToArray());
    }
}
