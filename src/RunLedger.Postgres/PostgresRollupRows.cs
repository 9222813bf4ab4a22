using Npgsql;
using NpgsqlTypes;
using RunLedger.Core.Storage.Transfer;

namespace RunLedger.Postgres;

/// <summary>
/// Writes whole rollup rows in one statement, however many: the writer's flush (rows it merged
/// with the group's deltas) and the import (rows copied as they are) both upsert through it. A row
/// that already holds the same figures is left alone, so the statement counts only changed rows.
/// </summary>
internal static class PostgresRollupRows
{
    private static readonly string[] Keys = ["project_id", "bucket_size", "bucket_start", "kind", "name", "model", "status"];

    private static readonly string[] Values =
        ["count", "errors", "input_tokens", "output_tokens", "cost_nanos", "duration_count", "duration_sum", "duration_min", "duration_max", "histogram"];

    /// <summary>The upsert over arrays, one per column, bound by <see cref="Bind"/>.</summary>
    public static readonly string UpsertSql =
        $"INSERT INTO rollups ({string.Join(", ", Keys.Concat(Values))}) " +
        $"SELECT * FROM unnest({string.Join(", ", Keys.Concat(Values).Select(c => "@" + c))}) " +
        $"ON CONFLICT ({string.Join(", ", Keys)}) DO UPDATE SET {string.Join(", ", Values.Select(c => $"{c} = excluded.{c}"))} " +
        $"WHERE {string.Join(" OR ", Values.Select(c => $"rollups.{c} IS DISTINCT FROM excluded.{c}"))}";

    /// <summary>Binds <paramref name="rows"/> (their <c>Project</c> is not read) with the project id of each in <paramref name="projectIds"/>.</summary>
    public static void Bind(NpgsqlParameterCollection p, IReadOnlyList<RollupRecord> rows, long[] projectIds)
    {
        p.AddWithValue("project_id", projectIds);
        p.AddWithValue("bucket_size", rows.Select(r => r.BucketSize).ToArray());
        p.AddWithValue("bucket_start", rows.Select(r => r.BucketStart).ToArray());
        p.AddWithValue("kind", NpgsqlDbType.Array | NpgsqlDbType.Text, rows.Select(r => r.Kind).ToArray());
        p.AddWithValue("name", NpgsqlDbType.Array | NpgsqlDbType.Text, rows.Select(r => r.Name).ToArray());
        p.AddWithValue("model", NpgsqlDbType.Array | NpgsqlDbType.Text, rows.Select(r => r.Model).ToArray());
        p.AddWithValue("status", NpgsqlDbType.Array | NpgsqlDbType.Text, rows.Select(r => r.Status).ToArray());
        p.AddWithValue("count", rows.Select(r => r.Count).ToArray());
        p.AddWithValue("errors", rows.Select(r => r.Errors).ToArray());
        p.AddWithValue("input_tokens", rows.Select(r => r.InputTokens).ToArray());
        p.AddWithValue("output_tokens", rows.Select(r => r.OutputTokens).ToArray());
        p.AddWithValue("cost_nanos", rows.Select(r => r.CostNanos).ToArray());
        p.AddWithValue("duration_count", rows.Select(r => r.DurationCount).ToArray());
        p.AddWithValue("duration_sum", rows.Select(r => r.DurationSum).ToArray());
        p.AddWithValue("duration_min", NpgsqlDbType.Array | NpgsqlDbType.Bigint, rows.Select(r => r.DurationMin).ToArray());
        p.AddWithValue("duration_max", NpgsqlDbType.Array | NpgsqlDbType.Bigint, rows.Select(r => r.DurationMax).ToArray());
        p.AddWithValue("histogram", NpgsqlDbType.Array | NpgsqlDbType.Bytea, rows.Select(r => r.Histogram).ToArray());
    }
}
