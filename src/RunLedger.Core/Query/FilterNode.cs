namespace RunLedger.Core.Query;

/// <summary>
/// A parsed filter. Produced by <see cref="FilterParser"/>, printed back by <see cref="FilterPrinter"/>,
/// compiled to parameterized SQL by each store.
/// </summary>
public abstract record FilterNode
{
    /// <summary>Zero-based offset of the term in the filter text (for error messages).</summary>
    public int Position { get; init; }
}

/// <summary>All terms must match (terms separated by whitespace or AND).</summary>
public sealed record AndFilter(IReadOnlyList<FilterNode> Terms) : FilterNode;

/// <summary>Any term may match (OR).</summary>
public sealed record OrFilter(IReadOnlyList<FilterNode> Terms) : FilterNode;

/// <summary>The term must not match (a leading '-' or NOT).</summary>
public sealed record NotFilter(FilterNode Term) : FilterNode;

/// <summary>
/// A comparison of a field with a value: <c>status:failed</c>, <c>cost&lt;0.01</c>,
/// <c>metadata.repository:"acme/web"</c> (Field "metadata", Key "repository").
/// </summary>
public sealed record FieldFilter(string Field, string? Key, CompareOp Op, FilterValue Value) : FilterNode;

/// <summary>Free text searched in input, output and error message.</summary>
public sealed record TextFilter(string Text) : FilterNode;

/// <summary>How a field is compared.</summary>
public enum CompareOp
{
    /// <summary><c>:</c> or <c>=</c>; with a trailing or inner <c>*</c> it is a wildcard match.</summary>
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

/// <summary>A literal on the right of a comparison.</summary>
public abstract record FilterValue;

/// <summary>A word or quoted string. <see cref="IsPattern"/> when it holds an unquoted <c>*</c>.</summary>
public sealed record StringValue(string Text, bool IsPattern) : FilterValue;

/// <summary>A number, exact (decimal).</summary>
public sealed record NumberValue(decimal Number) : FilterValue;

/// <summary>A duration such as <c>30s</c>, <c>1.5m</c>, <c>250ms</c>.</summary>
public sealed record DurationValue(TimeSpan Duration) : FilterValue;

/// <summary>An absolute time such as <c>2026-11-01</c> or <c>2026-11-01T08:00:00Z</c>.</summary>
public sealed record TimeValue(DateTimeOffset Time) : FilterValue;

/// <summary>A time relative to now such as <c>-24h</c> (Offset is negative for the past).</summary>
public sealed record RelativeTimeValue(TimeSpan Offset) : FilterValue;
