using System.Globalization;
using RunLedger.Core.Storage;

namespace RunLedger.Core.Query;

/// <summary>
/// Compiles a filter AST to a parameterized SQL boolean expression over <c>runs r</c>,
/// <c>events e</c> or <c>sessions s</c>. This class holds what every SQL store compiles alike:
/// the walk over the tree, field lookup, the checks that give a person an error they can act
/// on, the columns (<see cref="FilterColumns"/>), units (cost in nano-dollars, durations and
/// times in microseconds) and parameter naming. A store's subclass says how its dialect spells
/// the parts that differ: negation, free text, wildcards, tags, ids, booleans and metadata.
/// <para>
/// User text never reaches the SQL text: every value is a parameter named <c>@q0</c>,
/// <c>@q1</c>, ... (callers must not use that prefix). Matching is two-valued: a missing column
/// (NULL) never matches a positive comparison, and a negation (<c>-term</c>, <c>NOT term</c>,
/// <c>field!=value</c>) matches exactly the rows the positive term does not, NULLs included.
/// </para>
/// </summary>
public abstract class FilterSqlBuilder
{
    private readonly List<KeyValuePair<string, object?>> _parameters = [];
    private readonly DateTimeOffset _now;

    protected FilterSqlBuilder(FilterTarget target, DateTimeOffset now)
    {
        Target = target;
        _now = now;
    }

    /// <summary>What the filter selects: runs, events or sessions.</summary>
    protected FilterTarget Target { get; }

    /// <summary>The alias of the filtered table.</summary>
    protected string Table => Target switch
    {
        FilterTarget.Runs => "r",
        FilterTarget.Events => "e",
        _ => "s",
    };

    /// <summary>The dialect's boolean literals, for an empty AND and an empty OR.</summary>
    protected abstract string True { get; }

    /// <inheritdoc cref="True"/>
    protected abstract string False { get; }

    /// <summary>Compiles <paramref name="node"/> into a fragment with its parameters.</summary>
    public SqlFragment Build(FilterNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var sql = Node(node);
        return new SqlFragment(sql, _parameters.ToArray());
    }

    /// <summary>Adds a parameter and returns its name.</summary>
    protected string Add(object? value)
    {
        var name = "@q" + _parameters.Count.ToString(CultureInfo.InvariantCulture);
        _parameters.Add(new KeyValuePair<string, object?>(name, value));
        return name;
    }

    /// <summary>True exactly where <paramref name="sql"/> is not true (false or NULL).</summary>
    protected abstract string Not(string sql);

    /// <summary>Free text: a phrase over a run's input, output and error; a substring of an event's data or a session's name.</summary>
    protected abstract string Text(string text);

    /// <summary>A run that carries a tag equal to (or, for a pattern, matching) <paramref name="value"/>.</summary>
    protected abstract string Tag(StringValue value);

    /// <summary>A column equal to a value or, for a pattern, matching it case-sensitively.</summary>
    protected abstract string StringCompare(string column, StringValue value);

    /// <summary>An id in the dialect's parameter form.</summary>
    protected abstract object IdParameter(Guid id);

    /// <summary>A boolean column compared with <paramref name="flag"/>.</summary>
    protected abstract string BooleanEquals(string column, bool flag);

    /// <summary>A number scaled to the column's unit in the dialect's parameter form.</summary>
    protected abstract object NumberParameter(decimal value, decimal scale);

    /// <summary><c>metadata.key</c> compared with a number; only JSON numbers match.</summary>
    protected abstract string MetadataNumber(string key, CompareOp op, decimal number);

    /// <summary><c>metadata.key:pattern*</c>; only JSON strings match.</summary>
    protected abstract string MetadataPattern(string key, string pattern);

    /// <summary><c>metadata.key:true</c>, <c>false</c> or <c>null</c>: the JSON literal or the string.</summary>
    protected abstract string MetadataLiteral(string key, string literal);

    /// <summary><c>metadata.key:text</c>; only JSON strings match.</summary>
    protected abstract string MetadataString(string key, string text);

    /// <summary>The SQL operator of an ordering or equality comparison.</summary>
    protected static string Operator(CompareOp op) => FilterColumns.Operator(op);

    private string Node(FilterNode node) => node switch
    {
        AndFilter and => Join(and.Terms, " AND ", True),
        OrFilter or => Join(or.Terms, " OR ", False),
        NotFilter not => Not(Node(not.Term)),
        FieldFilter field => Field(field),
        TextFilter text => Text(text.Text),
        _ => throw new ArgumentException($"Unknown filter node {node.GetType().Name}.", nameof(node)),
    };

    private string Join(IReadOnlyList<FilterNode> terms, string separator, string empty)
    {
        if (terms.Count == 0)
        {
            return empty;
        }

        return "(" + string.Join(separator, terms.Select(t => "(" + Node(t) + ")")) + ")";
    }

    private string Field(FieldFilter filter)
    {
        var field = FilterFields.Find(Target, filter.Field)
            ?? throw new ArgumentException($"Unknown field '{filter.Field}' for {FilterFields.Describe(Target)}.", nameof(filter));
        var sql = Positive(filter, field);
        return filter.Op == CompareOp.NotEqual ? Not(sql) : sql;
    }

    /// <summary>The comparison with NotEqual treated as Equal (the caller negates).</summary>
    private string Positive(FieldFilter filter, FilterField field)
    {
        var op = filter.Op == CompareOp.NotEqual ? CompareOp.Equal : filter.Op;
        switch (field.Type)
        {
            case FilterFieldType.Metadata:
                return Metadata(filter, op);
            case FilterFieldType.Tag:
                return Tag(RequireString(filter));
            case FilterFieldType.Id:
                {
                    var text = RequireString(filter);
                    if (!Guid.TryParse(text.Text, out var id))
                    {
                        throw new ArgumentException($"'{text.Text}' is not a UUID.", nameof(filter));
                    }

                    return $"{Column(field.Name)} = {Add(IdParameter(id))}";
                }

            case FilterFieldType.Boolean:
                return BooleanEquals(Column(field.Name), string.Equals(RequireString(filter).Text, "true", StringComparison.OrdinalIgnoreCase));
            case FilterFieldType.Enum when field.Name == "is":
                return RequireString(filter).Text switch
                {
                    "root" => "r.parent_id IS NULL",
                    "pinned" => BooleanEquals("r.pinned", true),
                    "error" => "r.status IN ('failed', 'timeout')",
                    var other => throw new ArgumentException($"Unknown is:{other}.", nameof(filter)),
                };

            case FilterFieldType.Enum:
                return $"{Column(field.Name)} = {Add(RequireString(filter).Text)}";
            case FilterFieldType.String when field.Name == "error":
                return $"({StringCompare("r.error_type", RequireString(filter))} OR {StringCompare("r.error_message", RequireString(filter))})";
            case FilterFieldType.String:
                return StringCompare(Column(field.Name), RequireString(filter));
            case FilterFieldType.Number:
                {
                    var number = filter.Value as NumberValue
                        ?? throw new ArgumentException($"{field.Name} needs a number.", nameof(filter));
                    var scale = field.Name == "cost" ? 1_000_000_000m : 1m;
                    return $"{Column(field.Name)} {Operator(op)} {Add(NumberParameter(number.Number, scale))}";
                }

            case FilterFieldType.Duration:
                {
                    var duration = filter.Value as DurationValue
                        ?? throw new ArgumentException($"{field.Name} needs a duration.", nameof(filter));
                    return $"{Column(field.Name)} {Operator(op)} {Add(NumberParameter(duration.Duration.Ticks, 0.1m))}";
                }

            case FilterFieldType.Time:
                {
                    var time = filter.Value switch
                    {
                        TimeValue absolute => absolute.Time,
                        RelativeTimeValue relative => _now + relative.Offset,
                        _ => throw new ArgumentException($"{field.Name} needs a time.", nameof(filter)),
                    };
                    return $"{Column(field.Name)} {Operator(op)} {Add(StorageUnits.ToMicros(time))}";
                }

            default:
                throw new ArgumentException($"Unhandled field type {field.Type}.", nameof(filter));
        }
    }

    private string Metadata(FieldFilter filter, CompareOp op)
    {
        var key = filter.Key;
        if (string.IsNullOrEmpty(key) || !key.All(FilterColumns.IsMetadataKeyChar))
        {
            throw new ArgumentException($"Metadata key '{key}' must be letters, digits, '_', '.' or '-'.", nameof(filter));
        }

        return filter.Value switch
        {
            NumberValue number => MetadataNumber(key, op, number.Number),
            StringValue when op != CompareOp.Equal =>
                throw new ArgumentException($"metadata.{key} can only be compared with '<', '>' and so on against a number.", nameof(filter)),

            // Strings and patterns match only values stored as JSON strings: 10 never matches "1*".
            StringValue { IsPattern: true } pattern => MetadataPattern(key, pattern.Text),
            StringValue { Text: "true" or "false" or "null" } literal => MetadataLiteral(key, literal.Text),
            StringValue text => MetadataString(key, text.Text),
            _ => throw new ArgumentException($"metadata.{key} needs a number or a string.", nameof(filter)),
        };
    }

    private string Column(string field) => FilterColumns.Column(Target, field);

    private static StringValue RequireString(FieldFilter filter) =>
        filter.Value as StringValue ?? throw new ArgumentException($"{filter.Field} needs a text value.", nameof(filter));
}
