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

    private readonly Dictionary<string?[], StatsGroupFigures> _groups = new(GroupKeyComparer.Instance);

    /// <summary>Dimensions a rollup row carries; anything else is answered from the runs.</summary>
    public static IReadOnlySet<string> RollupDimensions { get; } = new HashSet<string>(StringComparer.Ordinal) { "kind", "name", "model", "status" };

    /// <summary>The groups seen so far, in no particular order.</summary>
    public IReadOnlyCollection<StatsGroupFigures> Groups => _groups.Values;

    /// <summary>
    /// The group of these dimension values (null: the run has no value), created on first use.
    /// <paramref name="values"/> is read, normalized in place and may be reused by the caller.
    /// </summary>
    public StatsGroupFigures Group(IReadOnlyList<string> names, string?[] values)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(values);
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = Value(names[i], values[i]);
        }

        if (!_groups.TryGetValue(values, out var group))
        {
            var key = new StringBuilder();
            var dictionary = new Dictionary<string, string?>(StringComparer.Ordinal);
            for (var i = 0; i < values.Length; i++)
            {
                key.Append(values[i] ?? "\u0001").Append('\u001f');
                dictionary[names[i]] = values[i];
            }

            group = new StatsGroupFigures(key.ToString(), dictionary);
            _groups[(string?[])values.Clone()] = group;
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

    /// <summary>
    /// Where the figures of runs (or a rollup bucket) started at <paramref name="start"/> with
    /// these dimension values are added: the group's total, or with an interval its point (group
    /// totals are then the sum of their points, so nothing is added twice).
    /// </summary>
    public StatsSum Target(IReadOnlyList<string> names, string?[] values, long start, long? intervalUs)
    {
        var group = Group(names, values);
        return intervalUs is { } step ? group.Point(RollupDeltas.BucketStart(start, step)) : group.Sum;
    }

    /// <summary>Adds one run to its group (and with an interval, its point).</summary>
    public void AddRun(IReadOnlyList<string> names, string?[] values, long startedAt, long? intervalUs, bool isError, long inputTokens, long outputTokens, long costNanos, long? durationMicros) =>
        Target(names, values, startedAt, intervalUs).AddRun(isError, inputTokens, outputTokens, costNanos, durationMicros);

    /// <summary>The figures of every group added up.</summary>
    public StatsSum Total()
    {
        var total = new StatsSum();
        foreach (var group in _groups.Values)
        {
            total.Add(group.Total());
        }

        return total;
    }

    /// <summary>The answer: groups by count (then key), at most 1000, beside the previous period when there is one.</summary>
    public StatsResult ToResult(StatsQuery query, StatsAggregation? previous, string source)
    {
        ArgumentNullException.ThrowIfNull(query);
        var series = query.Interval is not null;
        var before = previous?._groups.Values.ToDictionary(g => g.SortKey, StringComparer.Ordinal);
        var groups = _groups.Values
            .OrderByDescending(g => g.Total().Count)
            .ThenBy(g => g.SortKey, StringComparer.Ordinal)
            .Take(MaxGroups)
            .Select(g => new StatsGroup
            {
                Key = g.Key,
                Figures = g.Total().ToFigures(),
                Previous = before is null ? null : (before.TryGetValue(g.SortKey, out var p) ? p.Total() : new StatsSum()).ToFigures(),
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
            Total = Total().ToFigures(),
            PreviousTotal = previous?.Total().ToFigures(),
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
    /// <param name="holdsNoRuns">
    /// Whether no run started in [from, to), exactly; lets a bucket the window's edge cuts through
    /// be read whole when the part outside holds nothing. Null: never assumed.
    /// </param>
    public static IReadOnlyList<StatsSegment> PlanSegments(StatsQuery query, long fromUs, long toUs, Func<long, long, bool>? holdsNoRuns = null)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (toUs <= fromUs)
        {
            return [new StatsSegment(fromUs, Math.Max(fromUs, toUs), null)];
        }

        if (RollupSizes(query) is not { } sizes)
        {
            return [new StatsSegment(fromUs, toUs, null)];
        }

        var segments = new List<StatsSegment>();
        Plan(fromUs, toUs, sizes, segments, holdsNoRuns ?? ((_, _) => false));
        return segments;
    }

    /// <summary>
    /// <see cref="PlanSegments(StatsQuery, long, long, Func{long, long, bool}?)"/> with a bucket the
    /// window's edge cuts through read whole when nothing started in the part outside: its rows then
    /// hold exactly the runs inside. The window that ends now is the usual case: the hour and the day
    /// it ends in have nothing after now, so they are one hourly or daily row per group instead of the
    /// hours and 5-minute buckets leading up to now (the last 24 hours of a night's traffic read about
    /// half the rows). The store is asked once about every part the plan could need
    /// (<paramref name="holdNoRuns"/>: for each range, whether no run started in it, exactly), so
    /// planning costs one statement.
    /// </summary>
    public static async ValueTask<IReadOnlyList<StatsSegment>> PlanSegmentsAsync(
        StatsQuery query,
        long fromUs,
        long toUs,
        Func<IReadOnlyList<(long FromUs, long ToUs)>, CancellationToken, ValueTask<IReadOnlyList<bool>>> holdNoRuns,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(holdNoRuns);
        if (toUs <= fromUs || RollupSizes(query) is not { } sizes)
        {
            return PlanSegments(query, fromUs, toUs);
        }

        // The plan only ever asks about the part of a bucket before the window's start or after
        // its end (the smaller sizes' edges inside it are aligned to the bigger ones), at most two
        // ranges per bucket size.
        var ranges = new List<(long FromUs, long ToUs)>();
        foreach (var size in sizes)
        {
            var sizeUs = size * 1_000_000;
            var fromBucket = RollupDeltas.BucketStart(fromUs, sizeUs);
            var toBucket = RollupDeltas.BucketStart(toUs, sizeUs);
            if (fromBucket < fromUs)
            {
                ranges.Add((fromBucket, fromUs));
            }

            if (toBucket < toUs)
            {
                ranges.Add((toUs, toBucket + sizeUs));
            }
        }

        if (ranges.Count == 0)
        {
            return PlanSegments(query, fromUs, toUs);
        }

        var answers = await holdNoRuns(ranges, cancellationToken).ConfigureAwait(false);
        var empty = new HashSet<(long, long)>();
        for (var i = 0; i < ranges.Count; i++)
        {
            if (answers[i])
            {
                empty.Add(ranges[i]);
            }
        }

        return PlanSegments(query, fromUs, toUs, (from, to) => empty.Contains((from, to)));
    }

    /// <summary>The bucket sizes a plan may use, largest first; null when only the runs can answer.</summary>
    private static long[]? RollupSizes(StatsQuery query)
    {
        if (!query.GroupBy.All(RollupDimensions.Contains) || (query.Filter is not null && TranslateRollupFilter(query.Filter, (_, _, _) => string.Empty) is null))
        {
            return null;
        }

        long? intervalUs = query.Interval is { } interval ? interval.Ticks / 10 : null;
        return RollupDeltas.BucketSizes
            .Where(size => intervalUs is not { } step || step % (size * 1_000_000) == 0)
            .OrderDescending()
            .ToArray();
    }

    private static void Plan(long fromUs, long toUs, long[] sizes, List<StatsSegment> segments, Func<long, long, bool> holdsNoRuns)
    {
        if (fromUs >= toUs)
        {
            return;
        }

        if (sizes.Length == 0)
        {
            segments.Add(new StatsSegment(fromUs, toUs, null));
            return;
        }

        var sizeUs = sizes[0] * 1_000_000;
        var smaller = sizes[1..];
        var fromBucket = RollupDeltas.BucketStart(fromUs, sizeUs);
        var toBucket = RollupDeltas.BucketStart(toUs, sizeUs);
        var first = fromBucket == fromUs ? fromUs : fromBucket + sizeUs;
        var last = toBucket;

        // A bucket the window's edge cuts through is read whole when nothing started in the part
        // outside. The end is only asked about when the widened range would hold a bucket.
        if (fromBucket < fromUs && holdsNoRuns(fromBucket, fromUs))
        {
            first = fromBucket;
        }

        if (toBucket < toUs && toBucket + sizeUs > first && holdsNoRuns(toUs, toBucket + sizeUs))
        {
            last = toBucket + sizeUs;
        }

        if (first >= last)
        {
            Plan(fromUs, toUs, smaller, segments, holdsNoRuns);
            return;
        }

        Plan(fromUs, Math.Max(fromUs, first), smaller, segments, holdsNoRuns);
        segments.Add(new StatsSegment(first, last, sizes[0]));
        Plan(Math.Min(toUs, last), toUs, smaller, segments, holdsNoRuns);
    }

    /// <summary>
    /// The statement that answers <see cref="PlanSegmentsAsync"/>'s question for a store: one row,
    /// one column per range, true when no run started in it. A range holds no run when no 5-minute
    /// rollup row lies in its whole 5-minute buckets (rows whose count falls to zero are deleted)
    /// and no run row in its ragged ends; every seek stops at its first row. Every run has its
    /// 5-minute row while nothing thins that tier; a retention of 5-minute rows would have to ask
    /// the hourly and daily tiers too. <paramref name="parameter"/> binds a value and returns its
    /// placeholder; the project is <c>@p</c>. The SQL is the same on both stores.
    /// </summary>
    public static string NoRunsSql(IReadOnlyList<(long FromUs, long ToUs)> ranges, Func<long, string> parameter)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        ArgumentNullException.ThrowIfNull(parameter);
        var size = RollupDeltas.BucketSizes.Min();
        var sizeUs = size * 1_000_000;
        string Runs(long from, long to) =>
            $"EXISTS (SELECT 1 FROM runs WHERE project_id = @p AND started_at >= {parameter(from)} AND started_at < {parameter(to)})";

        var sql = new StringBuilder("SELECT ");
        for (var r = 0; r < ranges.Count; r++)
        {
            var (fromUs, toUs) = ranges[r];
            var start = RollupDeltas.BucketStart(fromUs, sizeUs);
            var first = start == fromUs ? fromUs : start + sizeUs;
            var last = RollupDeltas.BucketStart(toUs, sizeUs);
            var probes = new List<string>();
            if (first >= last)
            {
                probes.Add(Runs(fromUs, toUs));
            }
            else
            {
                probes.Add($"EXISTS (SELECT 1 FROM rollups WHERE project_id = @p AND bucket_size = {parameter(size)} AND bucket_start >= {parameter(first)} AND bucket_start < {parameter(last)} AND count > 0)");
                if (fromUs < first)
                {
                    probes.Add(Runs(fromUs, first));
                }

                if (last < toUs)
                {
                    probes.Add(Runs(last, toUs));
                }
            }

            sql.Append(r == 0 ? string.Empty : ", ").Append("NOT (").AppendJoin(" OR ", probes).Append(')');
        }

        return sql.ToString();
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

/// <summary>
/// The figures of one stats group: its sum, or with an interval its points per interval start
/// (whose sum is the group's total).
/// </summary>
public sealed class StatsGroupFigures(string sortKey, IReadOnlyDictionary<string, string?> key)
{
    private StatsSum? _total;

    public string SortKey { get; } = sortKey;

    public IReadOnlyDictionary<string, string?> Key { get; } = key;

    /// <summary>Where figures go without an interval.</summary>
    public StatsSum Sum { get; } = new();

    public Dictionary<long, StatsSum> Series { get; } = [];

    public StatsSum Point(long start)
    {
        if (!Series.TryGetValue(start, out var point))
        {
            point = new StatsSum();
            Series[start] = point;
        }

        return point;
    }

    /// <summary>The group's figures: its sum plus its points (computed once, when the figures are complete).</summary>
    public StatsSum Total()
    {
        if (_total is null)
        {
            _total = new StatsSum();
            _total.Add(Sum);
            foreach (var point in Series.Values)
            {
                _total.Add(point);
            }
        }

        return _total;
    }
}

/// <summary>Compares group keys (dimension values, null for none) ordinally.</summary>
internal sealed class GroupKeyComparer : IEqualityComparer<string?[]>
{
    public static GroupKeyComparer Instance { get; } = new();

    public bool Equals(string?[]? x, string?[]? y)
    {
        if (x is null || y is null || x.Length != y.Length)
        {
            return ReferenceEquals(x, y);
        }

        for (var i = 0; i < x.Length; i++)
        {
            if (!string.Equals(x[i], y[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    public int GetHashCode(string?[] obj)
    {
        var hash = default(HashCode);
        foreach (var value in obj)
        {
            hash.Add(value is null ? 0 : StringComparer.Ordinal.GetHashCode(value));
        }

        return hash.ToHashCode();
    }
}
