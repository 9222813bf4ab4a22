using System.Globalization;
using System.Text;
using RunLedger.Core.Query;
using RunLedger.Core.Rollups;

namespace RunLedger.Core.Storage;

/// <summary>
/// Stats figures being added up, per group and per interval, from run rows or rollup rows. The
/// stores read rows their own way and share this so both answer a stats query the same.
/// </summary>
public sealed class StatsAggregation
{
    private const int MaxGroups = 1000;

    /// <summary>Dimensions a rollup row carries; anything else is answered from the runs.</summary>
    public static IReadOnlySet<string> RollupDimensions { get; } = new HashSet<string>(StringComparer.Ordinal) { "kind", "name", "model", "status" };

    public RollupFigures Total { get; } = new();

    public Dictionary<string, StatsGroupFigures> Groups { get; } = new(StringComparer.Ordinal);

    /// <summary>The group of these dimension values (null: the run has no value), created on first use.</summary>
    public StatsGroupFigures Group(IReadOnlyList<string> names, IReadOnlyList<string?> values)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(values);
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

            group = new StatsGroupFigures(sortKey, dictionary);
            Groups[sortKey] = group;
        }

        return group;
    }

    /// <summary>Adds one run to its group, the total and (with an interval) its point.</summary>
    public void AddRun(IReadOnlyList<string> names, IReadOnlyList<string?> values, long startedAt, long? intervalUs, bool isError, long inputTokens, long outputTokens, long costNanos, long? durationMicros)
    {
        var group = Group(names, values);
        group.Total.AddRun(isError, inputTokens, outputTokens, costNanos, durationMicros);
        Total.AddRun(isError, inputTokens, outputTokens, costNanos, durationMicros);
        if (intervalUs is { } step)
        {
            group.Point(RollupDeltas.BucketStart(startedAt, step)).AddRun(isError, inputTokens, outputTokens, costNanos, durationMicros);
        }
    }

    /// <summary>Adds one rollup row to its group, the total and (with an interval) its point.</summary>
    public void AddBucket(IReadOnlyList<string> names, IReadOnlyList<string?> values, long bucketStart, long? intervalUs, RollupFigures bucket)
    {
        var group = Group(names, values);
        group.Total.Add(bucket);
        Total.Add(bucket);
        if (intervalUs is { } step)
        {
            group.Point(RollupDeltas.BucketStart(bucketStart, step)).Add(bucket);
        }
    }

    /// <summary>The answer: groups by count (then key), at most 1000, beside the previous period when there is one.</summary>
    public StatsResult ToResult(StatsQuery query, StatsAggregation? previous, bool fromRollups)
    {
        ArgumentNullException.ThrowIfNull(query);
        var series = query.Interval is not null;
        var groups = Groups.Values
            .OrderByDescending(g => g.Total.Count)
            .ThenBy(g => g.SortKey, StringComparer.Ordinal)
            .Take(MaxGroups)
            .Select(g => new StatsGroup
            {
                Key = g.Key,
                Figures = g.Total.ToFigures(),
                Previous = previous is null ? null : (previous.Groups.TryGetValue(g.SortKey, out var p) ? p.Total : new RollupFigures()).ToFigures(),
                Series = !series
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
            Total = Total.ToFigures(),
            PreviousTotal = previous?.Total.ToFigures(),
            Groups = groups,
            Source = fromRollups ? "rollups" : "runs",
        };
    }

    public static string FormatInterval(TimeSpan interval) =>
        interval.TotalDays >= 1 && interval.TotalDays == Math.Floor(interval.TotalDays)
            ? string.Create(CultureInfo.InvariantCulture, $"{interval.TotalDays}d")
            : interval.TotalHours >= 1 && interval.TotalHours == Math.Floor(interval.TotalHours)
                ? string.Create(CultureInfo.InvariantCulture, $"{interval.TotalHours}h")
                : string.Create(CultureInfo.InvariantCulture, $"{interval.TotalMinutes}m");

    /// <summary>A metadata key a stats query may group by.</summary>
    public static bool IsMetadataKey(string key) =>
        key.Length is > 0 and <= 128 && key.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.');

    /// <summary>The metadata key of a <c>metadata.KEY</c> dimension, or null for a plain dimension; throws for an unknown one.</summary>
    public static string? MetadataDimension(string dimension)
    {
        ArgumentNullException.ThrowIfNull(dimension);
        if (dimension is "kind" or "name" or "model" or "provider" or "status" or "user" or "session")
        {
            return null;
        }

        if (dimension.StartsWith("metadata.", StringComparison.Ordinal) && IsMetadataKey(dimension["metadata.".Length..]))
        {
            return dimension["metadata.".Length..];
        }

        throw new FormatException($"groupBy: '{dimension}' is not a dimension; use kind, name, model, provider, status, user, session or metadata.<key>.");
    }

    /// <summary>
    /// The rollup bucket size (seconds) that answers the query exactly, or null when only the
    /// rows can: the filter and grouping use only rollup dimensions and every boundary falls on
    /// a bucket edge.
    /// </summary>
    public static long? ChooseRollupBucket(StatsQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (!query.GroupBy.All(RollupDimensions.Contains) || (query.Filter is not null && TranslateRollupFilter(query.Filter, (_, _, _) => string.Empty) is null))
        {
            return null;
        }

        var fromUs = StorageUnits.ToMicros(query.From);
        var toUs = StorageUnits.ToMicros(query.To);
        long? intervalUs = query.Interval is { } interval ? interval.Ticks / 10 : null;
        var length = toUs - fromUs;
        foreach (var size in RollupDeltas.BucketSizes.Reverse())
        {
            var sizeUs = size * 1_000_000;
            if (fromUs % sizeUs == 0 && toUs % sizeUs == 0 && (intervalUs is null || intervalUs % sizeUs == 0) && (!query.ComparePrevious || length % sizeUs == 0))
            {
                return size;
            }
        }

        return null;
    }

    /// <summary>
    /// Translates a filter that only compares rollup dimensions for equality (and/or/not of
    /// <c>kind|name|model|status[:|!=]value</c>) into SQL, with <paramref name="comparison"/>
    /// writing one comparison (dimension, equal, value); null when the filter needs the rows.
    /// </summary>
    public static string? TranslateRollupFilter(FilterNode node, Func<string, bool, string, string> comparison)
    {
        ArgumentNullException.ThrowIfNull(comparison);
        switch (node)
        {
            case AndFilter and:
                var parts = and.Terms.Select(t => TranslateRollupFilter(t, comparison)).ToArray();
                return parts.Any(p => p is null) ? null : "(" + string.Join(" AND ", parts) + ")";
            case OrFilter or:
                var options = or.Terms.Select(t => TranslateRollupFilter(t, comparison)).ToArray();
                return options.Any(p => p is null) ? null : "(" + string.Join(" OR ", options) + ")";
            case NotFilter not:
                var inner = TranslateRollupFilter(not.Term, comparison);
                return inner is null ? null : "NOT " + inner;
            case FieldFilter { Key: null, Value: StringValue { IsPattern: false } value } field
                when RollupDimensions.Contains(field.Field) && field.Op is CompareOp.Equal or CompareOp.NotEqual:
                return comparison(field.Field, field.Op == CompareOp.Equal, value.Text);
            default:
                return null;
        }
    }
}

/// <summary>The figures of one stats group: its total and its points per interval start.</summary>
public sealed class StatsGroupFigures(string sortKey, IReadOnlyDictionary<string, string?> key)
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
