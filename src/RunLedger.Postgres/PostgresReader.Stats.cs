using System.Globalization;
using System.Text;
using Npgsql;
using RunLedger.Core.Storage;
using RunLedger.Core.Query;
using RunLedger.Postgres.Query;

namespace RunLedger.Postgres;

internal sealed partial class PostgresReader
{
    public async Task<StatsResult> GetStatsAsync(long projectId, StatsQuery query, CancellationToken cancellationToken)
    {
        var dimensions = query.GroupBy.Select(d => (Name: d, MetadataKey: StatsAggregation.MetadataDimension(d))).ToArray();
        await using var connection = await _store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

        // One snapshot for the rollup part, the runs part and the previous period: a commit
        // between them would count a run twice or not at all.
        await using var snapshot = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
        await using (var readOnly = new NpgsqlCommand("SET TRANSACTION READ ONLY;", connection, snapshot))
        {
            await readOnly.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        var fromUs = StorageUnits.ToMicros(query.From);
        var toUs = StorageUnits.ToMicros(query.To);
        long? intervalUs = query.Interval is { } interval ? interval.Ticks / 10 : null;

        ValueTask<IReadOnlyList<bool>> HoldNoRuns(IReadOnlyList<(long, long)> ranges, CancellationToken token) => NoRunsInAsync(connection, projectId, ranges, token);
        var plan = await StatsAggregation.PlanSegmentsAsync(query, fromUs, toUs, HoldNoRuns, cancellationToken).ConfigureAwait(false);
        var current = new StatsAggregation();
        await AggregateAsync(connection, projectId, query, dimensions, plan, intervalUs, current, cancellationToken).ConfigureAwait(false);

        StatsAggregation? previous = null;
        if (query.ComparePrevious)
        {
            var length = toUs - fromUs;
            previous = new StatsAggregation();
            var previousPlan = await StatsAggregation.PlanSegmentsAsync(query with { Interval = null }, fromUs - length, fromUs, HoldNoRuns, cancellationToken).ConfigureAwait(false);
            await AggregateAsync(connection, projectId, query, dimensions, previousPlan, null, previous, cancellationToken).ConfigureAwait(false);
        }

        return current.ToResult(query, previous, StatsAggregation.SourceOf(plan));
    }

    /// <summary>
    /// For each range, whether no run of the project started in it: one statement
    /// (<see cref="StatsAggregation.NoRunsSql"/>) of index probes, in the caller's snapshot.
    /// </summary>
    private static async ValueTask<IReadOnlyList<bool>> NoRunsInAsync(
        NpgsqlConnection connection, long projectId, IReadOnlyList<(long FromUs, long ToUs)> ranges, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand { Connection = connection };
        var sql = StatsAggregation.NoRunsSql(ranges, value =>
        {
            var name = "v" + command.Parameters.Count.ToString(CultureInfo.InvariantCulture);
            command.Parameters.AddWithValue(name, value);
            return "@" + name;
        });
        command.Parameters.AddWithValue("p", projectId);
        command.CommandText = sql;
        var answers = new bool[ranges.Count];
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            for (var r = 0; r < answers.Length; r++)
            {
                answers[r] = reader.GetBoolean(r);
            }
        }

        return answers;
    }

    private async Task AggregateAsync(
        NpgsqlConnection connection, long projectId, StatsQuery query, (string Name, string? MetadataKey)[] dimensions, IReadOnlyList<StatsSegment> plan, long? intervalUs, StatsAggregation into, CancellationToken cancellationToken)
    {
        foreach (var segment in plan)
        {
            if (segment.BucketSize is { } size)
            {
                await AggregateRollupsAsync(connection, projectId, query, size, segment.FromUs, segment.ToUs, intervalUs, into, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await AggregateRunsAsync(connection, projectId, query, dimensions, segment.FromUs, segment.ToUs, intervalUs, into, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task AggregateRunsAsync(
        NpgsqlConnection connection, long projectId, StatsQuery query, (string Name, string? MetadataKey)[] dimensions, long fromUs, long toUs, long? intervalUs, StatsAggregation aggregation, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand { Connection = connection };
        var sql = new StringBuilder("SELECT ");
        for (var d = 0; d < dimensions.Length; d++)
        {
            if (dimensions[d].MetadataKey is { } key)
            {
                var parameter = "dim" + d.ToString(CultureInfo.InvariantCulture);
                command.Parameters.AddWithValue(parameter, key);
                sql.Append("r.metadata_json ->> @").Append(parameter).Append(", ");
            }
            else
            {
                sql.Append("r.").Append(dimensions[d].Name switch { "user" => "user_id", "session" => "session_id", var name => name }).Append(", ");
            }
        }

        sql.Append("r.started_at, r.status, r.input_tokens, r.output_tokens, r.cost_nanos, r.duration_us FROM runs r ")
            .Append("WHERE r.project_id = @project AND r.started_at >= @from AND r.started_at < @to");
        command.Parameters.AddWithValue("project", projectId);
        command.Parameters.AddWithValue("from", fromUs);
        command.Parameters.AddWithValue("to", toUs);
        AppendFilter(sql, command, query.Filter is null ? null : PostgresFilterCompiler.CompileRuns(query.Filter, _time.GetUtcNow()));
        command.CommandText = sql.ToString();

        var n = dimensions.Length;
        var values = new string?[n];
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            for (var d = 0; d < n; d++)
            {
                values[d] = reader.IsDBNull(d) ? null : reader.GetString(d);
            }

            aggregation.AddRun(
                query.GroupBy,
                values,
                reader.GetInt64(n),
                intervalUs,
                reader.GetString(n + 1) is "failed" or "timeout",
                reader.IsDBNull(n + 2) ? 0 : reader.GetInt64(n + 2),
                reader.IsDBNull(n + 3) ? 0 : reader.GetInt64(n + 3),
                reader.IsDBNull(n + 4) ? 0 : reader.GetInt64(n + 4),
                reader.IsDBNull(n + 5) ? null : reader.GetInt64(n + 5));
        }
    }

    /// <summary>
    /// Adds the rollup rows of one bucket size in [<paramref name="fromUs"/>, <paramref name="toUs"/>):
    /// the server sums them per group (and interval point) and hands back each group's
    /// histograms back to back in one bytea, so a group costs one row here however many buckets
    /// it spans.
    /// </summary>
    private static async Task AggregateRollupsAsync(
        NpgsqlConnection connection, long projectId, StatsQuery query, long bucketSize, long fromUs, long toUs, long? intervalUs, StatsAggregation aggregation, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand { Connection = connection };
        var sql = new StringBuilder("SELECT ");
        var groupBy = new List<string>();
        foreach (var dimension in query.GroupBy)
        {
            sql.Append("u.").Append(dimension).Append(", ");
            groupBy.Add((groupBy.Count + 1).ToString(CultureInfo.InvariantCulture));
        }

        // The point's start, floored like RollupDeltas.BucketStart (bucket starts may be negative).
        var point = intervalUs is null ? "0::bigint" : "u.bucket_start - (((u.bucket_start % @step) + @step) % @step)";
        if (intervalUs is { } step)
        {
            command.Parameters.AddWithValue("step", step);
            groupBy.Add((groupBy.Count + 1).ToString(CultureInfo.InvariantCulture));
        }

        sql.Append(point).Append(", sum(u.count)::bigint, sum(u.errors)::bigint, sum(u.input_tokens)::bigint, sum(u.output_tokens)::bigint, sum(u.cost_nanos)::bigint, ")
            .Append("sum(u.duration_count)::bigint, sum(u.duration_sum)::bigint, max(u.duration_max), string_agg(u.histogram, ''::bytea) ")
            .Append("FROM rollups u WHERE u.project_id = @project AND u.bucket_size = @size AND u.bucket_start >= @from AND u.bucket_start < @to");
        command.Parameters.AddWithValue("project", projectId);
        command.Parameters.AddWithValue("size", bucketSize);
        command.Parameters.AddWithValue("from", fromUs);
        command.Parameters.AddWithValue("to", toUs);
        if (query.Filter is not null)
        {
            var parameters = new List<KeyValuePair<string, object?>>();
            var filter = StatsAggregation.TranslateRollupFilter(query.Filter, (field, equal, value) =>
            {
                var name = "@rf" + parameters.Count.ToString(CultureInfo.InvariantCulture);
                parameters.Add(new(name, value));
                return $"(u.{field} {(equal ? "=" : "<>")} {name})";
            });
            AppendFilter(sql, command, filter is null ? null : new SqlFragment(filter, parameters));
        }

        if (groupBy.Count > 0)
        {
            sql.Append(" GROUP BY ").Append(string.Join(", ", groupBy));
        }

        command.CommandText = sql.ToString();
        var n = query.GroupBy.Count;
        var values = new string?[n];
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (reader.IsDBNull(n + 1))
            {
                // No group key and no rows: the aggregate's one row of nulls.
                continue;
            }

            for (var d = 0; d < n; d++)
            {
                values[d] = reader.GetString(d);
            }

            aggregation.Target(query.GroupBy, values, reader.GetInt64(n), intervalUs).AddRollup(
                reader.GetInt64(n + 1),
                reader.GetInt64(n + 2),
                reader.GetInt64(n + 3),
                reader.GetInt64(n + 4),
                reader.GetInt64(n + 5),
                reader.GetInt64(n + 6),
                reader.GetInt64(n + 7),
                reader.IsDBNull(n + 8) ? null : reader.GetInt64(n + 8),
                reader.IsDBNull(n + 9) ? [] : reader.GetFieldValue<byte[]>(n + 9));
        }
    }
}
