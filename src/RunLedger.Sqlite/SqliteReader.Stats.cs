using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using RunLedger.Core.Query;
using RunLedger.Core.Rollups;
using RunLedger.Core.Storage;
using RunLedger.Sqlite.Query;

namespace RunLedger.Sqlite;

internal sealed partial class SqliteReader
{
    public async Task<StatsResult> GetStatsAsync(long projectId, StatsQuery query, CancellationToken cancellationToken)
    {
        var dimensions = query.GroupBy.Select(ResolveDimension).ToArray();
        await using var connection = await _store.OpenReaderAsync(cancellationToken).ConfigureAwait(false);

        // One snapshot for the rollup part, the runs part and the previous period: a commit
        // between them would count a run twice or not at all (commands join it via CreateCommand).
        // Deferred: a read transaction, never the write lock.
        await using var snapshot = connection.BeginTransaction(deferred: true);
        var fromUs = StorageUnits.ToMicros(query.From);
        var toUs = StorageUnits.ToMicros(query.To);
        long? intervalUs = query.Interval is { } interval ? interval.Ticks / 10 : null;

        ValueTask<IReadOnlyList<bool>> HoldNoRuns(IReadOnlyList<(long, long)> ranges, CancellationToken _) => ValueTask.FromResult<IReadOnlyList<bool>>(NoRunsIn(connection, projectId, ranges));
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

    private async Task AggregateAsync(
        SqliteConnection connection, long projectId, StatsQuery query, string[] dimensions, IReadOnlyList<StatsSegment> plan, long? intervalUs, StatsAggregation into, CancellationToken cancellationToken)
    {
        foreach (var segment in plan)
        {
            if (segment.BucketSize is { } size)
            {
                AggregateRollups(connection, projectId, query, dimensions, size, segment.FromUs, segment.ToUs, intervalUs, into, cancellationToken);
            }
            else
            {
                await AggregateRunsAsync(connection, projectId, query, dimensions, segment.FromUs, segment.ToUs, intervalUs, into, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// For each range, whether no run of the project started in it: one statement
    /// (<see cref="StatsAggregation.NoRunsSql"/>) of seeks in the rollups' primary key and the
    /// runs' time index.
    /// </summary>
    private static bool[] NoRunsIn(SqliteConnection connection, long projectId, IReadOnlyList<(long FromUs, long ToUs)> ranges)
    {
        var values = new List<long>();
        var sql = StatsAggregation.NoRunsSql(ranges, value =>
        {
            values.Add(value);
            return "@v" + (values.Count - 1).ToString(CultureInfo.InvariantCulture);
        });
        using var statement = new RawStatement(connection, sql + ";");
        statement.Bind(statement.Position("@p"), projectId);
        for (var i = 0; i < values.Count; i++)
        {
            statement.Bind(statement.Position("@v" + i.ToString(CultureInfo.InvariantCulture)), values[i]);
        }

        var answers = new bool[ranges.Count];
        if (statement.Read())
        {
            for (var r = 0; r < answers.Length; r++)
            {
                answers[r] = statement.Int64(r) != 0;
            }
        }

        return answers;
    }

    /// <summary>Translates a filter that only compares rollup dimensions; null when it cannot.</summary>
    private static SqlFragment? RollupFilter(FilterNode node)
    {
        var parameters = new List<KeyValuePair<string, object?>>();
        var sql = StatsAggregation.TranslateRollupFilter(node, (field, equal, value) =>
        {
            var name = "@rf" + parameters.Count.ToString(CultureInfo.InvariantCulture);
            parameters.Add(new(name, value));
            return $"(u.{field} {(equal ? "=" : "<>")} {name})";
        });
        return sql is null ? null : new SqlFragment(sql, parameters);
    }

    private static string ResolveDimension(string dimension) => StatsAggregation.MetadataDimension(dimension) is { } key
        ? MetadataDimension("'$.\"" + key + "\"'")
        : dimension switch
        {
            "user" => "user_id",
            "session" => SqliteRows.SessionIdOf("r"),
            _ => dimension,
        };

    /// <summary>
    /// A metadata value as group key text. json_extract turns JSON true and false into 1 and 0,
    /// which would group them with the numbers; they keep their JSON names instead.
    /// </summary>
    private static string MetadataDimension(string path) =>
        $"CASE json_type({SqliteRunValues.Metadata.JsonOf("r")}, {path}) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE json_extract({SqliteRunValues.Metadata.JsonOf("r")}, {path}) END";

    private async Task AggregateRunsAsync(
        SqliteConnection connection, long projectId, StatsQuery query, string[] dimensions, long fromUs, long toUs, long? intervalUs, StatsAggregation aggregation, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        var sql = new StringBuilder("SELECT ");
        foreach (var dimension in dimensions)
        {
            sql.Append(dimension.Contains('(', StringComparison.Ordinal) ? dimension : "r." + dimension).Append(", ");
        }

        // The metadata text is joined only when a dimension reads it (a join by rowid per run).
        var join = dimensions.Any(d => d.Contains(SqliteRunValues.Metadata.JsonOf("r"), StringComparison.Ordinal)) ? SqliteRunValues.Metadata.Join("r") + " " : "";
        sql.Append("r.started_at, r.status, r.input_tokens, r.output_tokens, r.cost_nanos, r.duration_us FROM runs r ").Append(join)
            .Append("WHERE r.project_id = @project AND r.started_at >= @from AND r.started_at < @to");
        command.Parameters.AddWithValue("@project", projectId);
        command.Parameters.AddWithValue("@from", fromUs);
        command.Parameters.AddWithValue("@to", toUs);
        AppendFilter(sql, command, query.Filter is null ? null : SqliteFilterCompiler.CompileRuns(query.Filter, _time.GetUtcNow(), _store.FullTextLayout, MetadataOf(connection, projectId)));
        command.CommandText = sql.ToString();

        var values = new string?[dimensions.Length];
        var n = dimensions.Length;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            for (var d = 0; d < n; d++)
            {
                values[d] = reader.IsDBNull(d) ? null : Convert.ToString(reader.GetValue(d), CultureInfo.InvariantCulture);
            }

            var startedAt = reader.GetInt64(n);
            var isError = reader.GetString(n + 1) is "failed" or "timeout";
            var inputTokens = reader.IsDBNull(n + 2) ? 0 : reader.GetInt64(n + 2);
            var outputTokens = reader.IsDBNull(n + 3) ? 0 : reader.GetInt64(n + 3);
            var cost = reader.IsDBNull(n + 4) ? 0 : reader.GetInt64(n + 4);
            long? duration = reader.IsDBNull(n + 5) ? null : reader.GetInt64(n + 5);
            aggregation.AddRun(query.GroupBy, values, startedAt, intervalUs, isError, inputTokens, outputTokens, cost, duration);
        }
    }

    private static void AggregateRollups(
        SqliteConnection connection, long projectId, StatsQuery query, string[] dimensions, long bucketSize, long fromUs, long toUs, long? intervalUs, StatsAggregation aggregation, CancellationToken cancellationToken)
    {
        var sql = new StringBuilder("SELECT ");
        foreach (var dimension in dimensions)
        {
            sql.Append("u.").Append(dimension).Append(", ");
        }

        sql.Append("u.bucket_start, u.count, u.errors, u.input_tokens, u.output_tokens, u.cost_nanos, u.duration_count, u.duration_sum, u.duration_max, u.histogram ")
            .Append("FROM rollups u WHERE u.project_id = @project AND u.bucket_size = @size AND u.bucket_start >= @from AND u.bucket_start < @to");
        var filter = query.Filter is null ? null : RollupFilter(query.Filter);
        if (filter is not null)
        {
            sql.Append(" AND ").Append(filter.Sql);
        }

        // Row by row through SQLite's own API: the histogram is added to its group straight from
        // SQLite's buffer, with no array or histogram object per row (a reader's GetBytes or
        // GetFieldValue copies each blob, and cost more than the merge).
        using var statement = new RawStatement(connection, sql.ToString());
        statement.Bind(statement.Position("@project"), projectId);
        statement.Bind(statement.Position("@size"), bucketSize);
        statement.Bind(statement.Position("@from"), fromUs);
        statement.Bind(statement.Position("@to"), toUs);
        foreach (var (name, value) in filter?.Parameters ?? [])
        {
            statement.Bind(statement.Position(name), (string?)value);
        }

        var values = new string?[dimensions.Length];
        var n = dimensions.Length;
        while (statement.Read())
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (var d = 0; d < n; d++)
            {
                values[d] = statement.Text(d);
            }

            aggregation.Target(query.GroupBy, values, statement.Int64(n), intervalUs).AddRollup(
                statement.Int64(n + 1),
                statement.Int64(n + 2),
                statement.Int64(n + 3),
                statement.Int64(n + 4),
                statement.Int64(n + 5),
                statement.Int64(n + 6),
                statement.Int64(n + 7),
                statement.IsNull(n + 8) ? null : statement.Int64(n + 8),
                statement.Blob(n + 9));
        }
    }
}
