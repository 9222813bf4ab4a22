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
        for (var i = 0; i < values.Count; i++)
        {
            var value = Value(names[i], values[i]);
            key.Append(value is null ? "\u0001" : value).Append('\u001f');
        }

        var sortKey = key.ToString();
        if (!Groups.TryGetValue(sortKey, out var group))
        {
            var dictionary = new Dictionary<string, string?>(StringComparer.Ordinal);
            for (var i = 0; i < names.Count; i++)
            {
                dictionary[names[i]] = Value(names[i], values[i]);
            }

            group = new StatsGroupFigures(sortKey, dictionary);
            Groups[sortKey] = group;
        }

        return group;
    }

    /// <summary>
    /// A dimension value as groups hold it: rollups store a missing name or model as '' and read it
    /// back as null, so a run named "" is in the same (null) group whichever part of a window it
    /// was read from.
    /// </summary>
    private static string? Value(string name, string? value) =>
        value is { Length: 0 } && name is "name" or "model" ? null : value;

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
    public StatsResult ToResult(StatsQuery query, StatsAggregation? previous, string source)
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
            Source = source,
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
    /// How to answer runs started in [<paramref name="fromUs"/>, <paramref name="toUs"/>): the
    /// biggest rollup buckets that fit inside the window, smaller buckets towards its edges, and
    /// the runs themselves only for the ragged ends shorter than the smallest bucket. Rollup rows
    /// hold exact counts, sums and histograms, so the parts add up to the same figures the rows
    /// give. Only the runs answer when the grouping or filter needs something a rollup row does
    /// not carry; with an interval, only buckets that divide it are used so every bucket falls in
    /// one point.
    /// </summary>
    public static IReadOnlyList<StatsSegment> PlanSegments(StatsQuery query, long fromUs, long toUs)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (toUs <= fromUs)
        {
            return [new StatsSegment(fromUs, Math.Max(fromUs, toUs), null)];
        }

        if (!query.GroupBy.All(RollupDimensions.Contains) || (query.Filter is not null && TranslateRollupFilter(query.Filter, (_, _, _) => string.Empty) is null))
        {
            return [new StatsSegment(fromUs, toUs, null)];
        }

        long? intervalUs = query.Interval is { } interval ? interval.Ticks / 10 : null;
        var sizes = RollupDeltas.BucketSizes
            .Where(size => intervalUs is not { } step || step % (size * 1_000_000) == 0)
            .OrderDescending()
            .ToArray();
        var segments = new List<StatsSegment>();
        Plan(fromUs, toUs, sizes, segments);
        return segments;
    }

    private static void Plan(long fromUs, long toUs, ReadOnlySpan<long> sizes, List<StatsSegment> segments)
    {
        if (fromUs >= toUs)
        {
            return;
        }

        if (sizes.IsEmpty)
        {
            segments.Add(new StatsSegment(fromUs, toUs, null));
            return;
        }

        var sizeUs = sizes[0] * 1_000_000;
        var first = RollupDeltas.BucketStart(fromUs, sizeUs) == fromUs ? fromUs : RollupDeltas.BucketStart(fromUs, sizeUs) + sizeUs;
        var last = RollupDeltas.BucketStart(toUs, sizeUs);
        if (first >= last)
        {
            Plan(fromUs, toUs, sizes[1..], segments);
            return;
        }

        Plan(fromUs, first, sizes[1..], segments);
        segments.Add(new StatsSegment(first, last, sizes[0]));
        Plan(last, toUs, sizes[1..], segments);
    }

    /// <summary>"rollups", "runs" or "rollups+runs": what a plan reads.</summary>
    public static string SourceOf(IReadOnlyList<StatsSegment> segments)
    {
        ArgumentNullException.ThrowIfNull(segments);
        var rollups = segments.Any(s => s.BucketSize is not null);
        var runs = segments.Any(s => s.BucketSize is null);
        return rollups && runs ? "rollups+runs" : rollups ? "rollups" : "runs";
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
