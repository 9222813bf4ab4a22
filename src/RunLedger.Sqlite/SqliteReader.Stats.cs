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
    private const int MaxGroups = 1000;

    /// <summary>Dimensions a rollup row carries; anything else is answered from the runs table.</summary>
    private static readonly HashSet<string> RollupDimensions = ["kind", "name", "model", "status"];

    public async Task<StatsResult> GetStatsAsync(long projectId, StatsQuery query, CancellationToken cancellationToken)
    {
        var dimensions = query.GroupBy.Select(ResolveDimension).ToArray();
        await using var connection = await _store.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        var fromUs = StorageUnits.ToMicros(query.From);
        var toUs = StorageUnits.ToMicros(query.To);
        long? intervalUs = query.Interval is { } interval ? interval.Ticks / 10 : null;

        var bucketSize = ChooseRollupBucket(query, fromUs, toUs, intervalUs);
        var current = bucketSize is { } size
            ? await AggregateRollupsAsync(connection, projectId, query, dimensions, size, fromUs, toUs, intervalUs, cancellationToken).ConfigureAwait(false)
            : await AggregateRunsAsync(connection, projectId, query, dimensions, fromUs, toUs, intervalUs, cancellationToken).ConfigureAwait(false);

        Aggregation? previous = null;
        if (query.ComparePrevious)
        {
            var length = toUs - fromUs;
            previous = bucketSize is { } prevSize
                ? await AggregateRollupsAsync(connection, projectId, query, dimensions, prevSize, fromUs - length, fromUs, null, cancellationToken).ConfigureAwait(false)
                : await AggregateRunsAsync(connection, projectId, query, dimensions, fromUs - length, fromUs, null, cancellationToken).ConfigureAwait(false);
        }

        var groups = current.Groups.Values
            .OrderByDescending(g => g.Total.Count)
            .ThenBy(g => g.SortKey, StringComparer.Ordinal)
            .Take(MaxGroups)
            .Select(g => new StatsGroup
            {
                Key = g.Key,
                Figures = g.Total.ToFigures(),
                Previous = previous is null ? null : (previous.Groups.TryGetValue(g.SortKey, out var p) ? p.Total : new RollupFigures()).ToFigures(),
                Series = intervalUs is null
                    ? null
                    : g.Series.OrderBy(s => s.Key).Select(s => new StatsPoint(StorageUnits.FromMicros(s.Key), s.Value.ToFigures())).ToArray(),
            })
            .ToArray();

        return new StatsResult
        {
            From = query.From,
            To = query.To,
            Interval = query.Interval is { } i ? FormatInterval(i) : null,
            GroupBy = query.GroupBy,
            Total = current.Total.ToFigures(),
            PreviousTotal = previous?.Total.ToFigures(),
            Groups = groups,
            Source = bucketSize is null ? "runs" : "rollups",
        };
    }

    internal static string FormatInterval(TimeSpan interval) =>
        interval.TotalDays >= 1 && interval.TotalDays == Math.Floor(interval.TotalDays)
            ? string.Create(CultureInfo.InvariantCulture, $"{interval.TotalDays}d")
            : interval.TotalHours >= 1 && interval.TotalHours == Math.Floor(interval.TotalHours)
                ? string.Create(CultureInfo.InvariantCulture, $"{interval.TotalHours}h")
                : string.Create(CultureInfo.InvariantCulture, $"{interval.TotalMinutes}m");

    /// <summary>
    /// The rollup bucket size (seconds) that answers the query exactly, or null when only the
    /// rows can: the filter and grouping use only rollup dimensions and every boundary falls on
    /// a bucket edge.
    /// </summary>
    private static long? ChooseRollupBucket(StatsQuery query, long fromUs, long toUs, long? intervalUs)
    {
        if (!query.GroupBy.All(RollupDimensions.Contains) || (query.Filter is not null && RollupFilter(query.Filter) is null))
        {
            return null;
        }

        var length = toUs - fromUs;
        foreach (var size in SqliteWriter.BucketSizes.Reverse())
        {
            var sizeUs = size * 1_000_000;
            if (fromUs % sizeUs == 0 && toUs % sizeUs == 0 && (intervalUs is null || intervalUs % sizeUs == 0) && (!query.ComparePrevious || length % sizeUs == 0))
            {
                return size;
            }
        }

        return null;
    }

    /// <summary>Translates a filter that only compares rollup dimensions; null when it cannot.</summary>
    private static SqlFragment? RollupFilter(FilterNode node)
    {
        var parameters = new List<KeyValuePair<string, object?>>();
        var sql = Translate(node);
        return sql is null ? null : new SqlFragment(sql, parameters);

        string? Translate(FilterNode n)
        {
            switch (n)
            {
                case AndFilter and:
                    var parts = and.Terms.Select(Translate).ToArray();
                    return parts.Any(p => p is null) ? null : "(" + string.Join(" AND ", parts) + ")";
                case OrFilter or:
                    var options = or.Terms.Select(Translate).ToArray();
                    return options.Any(p => p is null) ? null : "(" + string.Join(" OR ", options) + ")";
                case NotFilter not:
                    var inner = Translate(not.Term);
                    return inner is null ? null : "NOT " + inner;
                case FieldFilter { Key: null, Value: StringValue { IsPattern: false } value } field
                    when RollupDimensions.Contains(field.Field) && field.Op is CompareOp.Equal or CompareOp.NotEqual:
                    var name = "@rf" + parameters.Count.ToString(CultureInfo.InvariantCulture);
                    parameters.Add(new(name, value.Text));
                    return $"(u.{field.Field} {(field.Op == CompareOp.Equal ? "=" : "<>")} {name})";
                default:
                    return null;
            }
        }
    }

    private static string ResolveDimension(string dimension) => dimension switch
    {
        "kind" => "kind",
        "name" => "name",
        "model" => "model",
        "provider" => "provider",
        "status" => "status",
        "user" => "user_id",
        "session" => "session_id",
        _ when dimension.StartsWith("metadata.", StringComparison.Ordinal) && IsMetadataKey(dimension["metadata.".Length..]) =>
            MetadataDimension("'$.\"" + dimension["metadata.".Length..] + "\"'"),
        _ => throw new FormatException($"groupBy: '{dimension}' is not a dimension; use kind, name, model, provider, status, user, session or metadata.<key>."),
    };

    /// <summary>
    /// A metadata value as group key text. json_extract turns JSON true and false into 1 and 0,
    /// which would group them with the numbers; they keep their JSON names instead.
    /// </summary>
    private static string MetadataDimension(string path) =>
        $"CASE json_type(r.metadata, {path}) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE json_extract(r.metadata, {path}) END";

    internal static bool IsMetadataKey(string key) =>
        key.Length is > 0 and <= 128 && key.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.');

    private async Task<Aggregation> AggregateRunsAsync(
        SqliteConnection connection, long projectId, StatsQuery query, string[] dimensions, long fromUs, long toUs, long? intervalUs, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        var sql = new StringBuilder("SELECT ");
        foreach (var dimension in dimensions)
        {
            sql.Append(dimension.Contains('(', StringComparison.Ordinal) ? dimension : "r." + dimension).Append(", ");
        }

        sql.Append("r.started_at, r.status, r.input_tokens, r.output_tokens, r.cost_nanos, r.duration_us FROM runs r ")
            .Append("WHERE r.project_id = @project AND r.started_at >= @from AND r.started_at < @to");
        command.Parameters.AddWithValue("@project", projectId);
        command.Parameters.AddWithValue("@from", fromUs);
        command.Parameters.AddWithValue("@to", toUs);
        AppendFilter(sql, command, query.Filter is null ? null : SqliteFilterCompiler.CompileRuns(query.Filter, _time.GetUtcNow()));
        command.CommandText = sql.ToString();

        var aggregation = new Aggregation();
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
            var group = aggregation.Group(query.GroupBy, values);
            group.Total.AddRun(isError, inputTokens, outputTokens, cost, duration);
            aggregation.Total.AddRun(isError, inputTokens, outputTokens, cost, duration);
            if (intervalUs is { } step)
            {
                group.Point(BucketStart(startedAt, step)).AddRun(isError, inputTokens, outputTokens, cost, duration);
            }
        }

        return aggregation;
    }

    private static async Task<Aggregation> AggregateRollupsAsync(
        SqliteConnection connection, long projectId, StatsQuery query, string[] dimensions, long bucketSize, long fromUs, long toUs, long? intervalUs, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        var sql = new StringBuilder("SELECT ");
        foreach (var dimension in dimensions)
        {
            sql.Append("u.").Append(dimension).Append(", ");
        }

        sql.Append("u.bucket_start, u.count, u.errors, u.input_tokens, u.output_tokens, u.cost_nanos, u.duration_count, u.duration_sum, u.duration_max, u.histogram ")
            .Append("FROM rollups u WHERE u.project_id = @project AND u.bucket_size = @size AND u.bucket_start >= @from AND u.bucket_start < @to");
        command.Parameters.AddWithValue("@project", projectId);
        command.Parameters.AddWithValue("@size", bucketSize);
        command.Parameters.AddWithValue("@from", fromUs);
        command.Parameters.AddWithValue("@to", toUs);
        if (query.Filter is not null)
        {
            AppendFilter(sql, command, RollupFilter(query.Filter));
        }

        command.CommandText = sql.ToString();
        var aggregation = new Aggregation();
        var values = new string?[dimensions.Length];
        var n = dimensions.Length;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            for (var d = 0; d < n; d++)
            {
                var text = reader.GetString(d);
                values[d] = text.Length == 0 && dimensions[d] is "name" or "model" ? null : text;
            }

            var bucket = new RollupFigures
            {
                Count = reader.GetInt64(n + 1),
                Errors = reader.GetInt64(n + 2),
                InputTokens = reader.GetInt64(n + 3),
                OutputTokens = reader.GetInt64(n + 4),
                CostNanos = reader.GetInt64(n + 5),
                DurationCount = reader.GetInt64(n + 6),
                DurationSum = reader.GetInt64(n + 7),
            };
            bucket.Widen(null, reader.IsDBNull(n + 8) ? null : reader.GetInt64(n + 8));
            if (!reader.IsDBNull(n + 9))
            {
                bucket.Histogram.Merge(LatencyHistogram.FromBytes((byte[])reader.GetValue(n + 9)));
            }

            var group = aggregation.Group(query.GroupBy, values);
            group.Total.Add(bucket);
            aggregation.Total.Add(bucket);
            if (intervalUs is { } step)
            {
                group.Point(BucketStart(reader.GetInt64(n), step)).Add(bucket);
            }
        }

        return aggregation;
    }

    private static long BucketStart(long time, long step)
    {
        var m = time % step;
        return time - (m < 0 ? m + step : m);
    }

    private sealed class Aggregation
    {
        public RollupFigures Total { get; } = new();

        public Dictionary<string, GroupFigures> Groups { get; } = new(StringComparer.Ordinal);

        public GroupFigures Group(IReadOnlyList<string> names, string?[] values)
        {
            var key = new StringBuilder();
            foreach (var value in values)
            {
                key.Append(value is null ? "\u0001" : value).Append('\u001f');
            }

            var sortKey = key.ToString();
            if (!Groups.TryGetValue(sortKey, out var group))
            {
                var dictionary = new Dictionary<string, string?>(StringComparer.Ordinal);
                for (var i = 0; i < names.Count; i++)
                {
                    dictionary[names[i]] = values[i];
                }

                group = new GroupFigures(sortKey, dictionary);
                Groups[sortKey] = group;
            }

            return group;
        }
    }

    private sealed class GroupFigures(string sortKey, IReadOnlyDictionary<string, string?> key)
    {
        public string SortKey { get; } = sortKey;

        public IReadOnlyDictionary<string, string?> Key { get; } = key;

        public RollupFigures Total { get; } = new();

        public Dictionary<long, RollupFigures> Series { get; } = [];

        public RollupFigures Point(long start)
        {
            if (!Series.TryGetValue(start, out var point))
            {
                point = new RollupFigures();
                Series[start] = point;
            }

            return point;
        }
    }
}
