using System.Globalization;
using System.Text;
using RunLedger.Core.Query;
using RunLedger.Core.Storage;

namespace RunLedger.Postgres.Query;

/// <summary>
/// Compiles a filter AST to a parameterized PostgreSQL WHERE fragment over <c>runs r</c>,
/// <c>events e</c> or <c>sessions s</c>, with the same results as the SQLite compiler. User text
/// never reaches the SQL text: every value is a parameter named <c>@q0</c>, <c>@q1</c>, ...
/// <para>
/// Matching is two-valued: a missing column (NULL) never matches a positive comparison, and a
/// negation matches exactly the rows the positive term does not, NULLs included; negations
/// compile to <c>(expr) IS NOT TRUE</c>.
/// </para>
/// <para>
/// Wildcards compile to case-sensitive LIKE with <c>%</c>, <c>_</c> and <c>\</c> escaped; the
/// compared columns use the "C" collation, so a prefix pattern can use the column's b-tree index
/// and an inner pattern on a run name the trigram index. <c>metadata.key:value</c> compiles to
/// jsonb containment (<c>@&gt;</c>), which the GIN index on the metadata answers. Free text on
/// runs is a phrase query on the <c>search</c> tsvector (see <see cref="SearchText"/>); on
/// events and sessions it is a substring match, case-insensitive for ASCII letters.
/// </para>
/// </summary>
internal static class PostgresFilterCompiler
{
    /// <summary>Lower-cases ASCII letters only, as SQLite's lower() does; the sessions trigram index is on this expression.</summary>
    internal const string AsciiUpper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    internal const string AsciiLower = "abcdefghijklmnopqrstuvwxyz";

    public static SqlFragment CompileRuns(FilterNode node, DateTimeOffset now) => Compile(node, FilterTarget.Runs, now);

    public static SqlFragment CompileEvents(FilterNode node, DateTimeOffset now) => Compile(node, FilterTarget.Events, now);

    public static SqlFragment CompileSessions(FilterNode node, DateTimeOffset now) => Compile(node, FilterTarget.Sessions, now);

    public static SqlFragment Compile(FilterNode node, FilterTarget target, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(node);
        var builder = new Builder(target, now);
        var sql = builder.Node(node);
        return new SqlFragment(sql, builder.Parameters);
    }

    /// <summary>A wildcard value as a LIKE pattern: '*' becomes '%', LIKE's own metacharacters are escaped.</summary>
    internal static string ToLike(string pattern)
    {
        var builder = new StringBuilder(pattern.Length + 8);
        foreach (var c in pattern)
        {
            _ = c switch
            {
                '*' => builder.Append('%'),
                '%' or '_' or '\\' => builder.Append('\\').Append(c),
                _ => builder.Append(c),
            };
        }

        return builder.ToString();
    }

    /// <summary>Text matched literally inside a LIKE pattern.</summary>
    internal static string EscapeLike(string text)
    {
        var builder = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            if (c is '%' or '_' or '\\')
            {
                builder.Append('\\');
            }

            builder.Append(c);
        }

        return builder.ToString();
    }

    internal static string AsciiLowerCase(string text)
    {
        var chars = text.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (chars[i] is >= 'A' and <= 'Z')
            {
                chars[i] = (char)(chars[i] + 32);
            }
        }

        return new string(chars);
    }

    private sealed class Builder
    {
        private readonly FilterTarget _target;
        private readonly DateTimeOffset _now;
        private readonly List<KeyValuePair<string, object?>> _parameters = [];

        public Builder(FilterTarget target, DateTimeOffset now)
        {
            _target = target;
            _now = now;
        }

        public IReadOnlyList<KeyValuePair<string, object?>> Parameters => _parameters;

        public string Node(FilterNode node) => node switch
        {
            AndFilter and => Join(and.Terms, " AND ", "TRUE"),
            OrFilter or => Join(or.Terms, " OR ", "FALSE"),
            NotFilter not => Not(Node(not.Term)),
            FieldFilter field => Field(field),
            TextFilter text => Text(text.Text),
            _ => throw new ArgumentException($"Unknown filter node {node.GetType().Name}.", nameof(node)),
        };

        private static string Not(string sql) => $"({sql}) IS NOT TRUE";

        private string Join(IReadOnlyList<FilterNode> terms, string separator, string empty)
        {
            if (terms.Count == 0)
            {
                return empty;
            }

            return "(" + string.Join(separator, terms.Select(t => "(" + Node(t) + ")")) + ")";
        }

        private string Text(string text)
        {
            if (_target == FilterTarget.Runs)
            {
                return SearchText.ToQuery(text) is { } query ? $"r.search @@ {Add(query)}::tsquery" : "FALSE";
            }

            var column = _target == FilterTarget.Events ? "e.data" : "s.name";
            var pattern = Add("%" + EscapeLike(AsciiLowerCase(text)) + "%");
            return $"translate({column}, '{AsciiUpper}', '{AsciiLower}') LIKE {pattern}";
        }

        private string Field(FieldFilter filter)
        {
            var field = FilterFields.Find(_target, filter.Field)
                ?? throw new ArgumentException($"Unknown field '{filter.Field}' for {FilterFields.Describe(_target)}.", nameof(filter));
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
                    {
                        var text = RequireString(filter);
                        return text.IsPattern
                            ? $"EXISTS (SELECT 1 FROM unnest(r.tags) AS t(tag) WHERE t.tag LIKE {Add(ToLike(text.Text))})"
                            : $"r.tags @> ARRAY[{Add(text.Text)}::text]";
                    }

                case FilterFieldType.Id:
                    {
                        var text = RequireString(filter);
                        if (!Guid.TryParse(text.Text, out var id))
                        {
                            throw new ArgumentException($"'{text.Text}' is not a UUID.", nameof(filter));
                        }

                        return $"{Column(field.Name)} = {Add(id)}";
                    }

                case FilterFieldType.Boolean:
                    {
                        var text = RequireString(filter);
                        return $"{Column(field.Name)} = {Add(string.Equals(text.Text, "true", StringComparison.OrdinalIgnoreCase))}";
                    }

                case FilterFieldType.Enum when field.Name == "is":
                    return RequireString(filter).Text switch
                    {
                        "root" => "r.parent_id IS NULL",
                        "pinned" => "r.pinned",
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
                        return $"{Column(field.Name)} {Operator(op)} {Add(ToSqlNumber(number.Number, scale))}";
                    }

                case FilterFieldType.Duration:
                    {
                        var duration = filter.Value as DurationValue
                            ?? throw new ArgumentException($"{field.Name} needs a duration.", nameof(filter));
                        return $"{Column(field.Name)} {Operator(op)} {Add(ToSqlNumber(duration.Duration.Ticks, 0.1m))}";
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
            if (string.IsNullOrEmpty(key) || !key.All(IsKeyChar))
            {
                throw new ArgumentException($"Metadata key '{key}' must be letters, digits, '_', '.' or '-'.", nameof(filter));
            }

            var json = $"{Table}.metadata_json";
            switch (filter.Value)
            {
                case NumberValue number:
                    {
                        var k = Add(key);

                        // CASE, not AND: PostgreSQL may evaluate AND operands in any order, and the cast must only see numbers.
                        return $"CASE WHEN jsonb_typeof({json} -> {k}) = 'number' THEN ({json} ->> {k})::numeric {Operator(op)} {Add(ToSqlNumber(number.Number, 1m))} END";
                    }

                case StringValue when op != CompareOp.Equal:
                    throw new ArgumentException($"metadata.{key} can only be compared with '<', '>' and so on against a number.", nameof(filter));
                // Strings and patterns match only values stored as JSON strings (10 never matches "1*").
                case StringValue { IsPattern: true } pattern:
                    {
                        var k = Add(key);
                        return $"(jsonb_typeof({json} -> {k}) = 'string' AND ({json} ->> {k}) LIKE {Add(ToLike(pattern.Text))})";
                    }

                case StringValue { Text: "true" or "false" or "null" } literal:
                    {
                        var k = Add(key);
                        var p = Add(literal.Text);
                        return $"({json} @> jsonb_build_object({k}::text, {p}::text) OR {json} @> jsonb_build_object({k}::text, {p}::jsonb))";
                    }

                case StringValue text:
                    return $"{json} @> jsonb_build_object({Add(key)}::text, {Add(text.Text)}::text)";
                default:
                    throw new ArgumentException($"metadata.{key} needs a number or a string.", nameof(filter));
            }
        }

        private string StringCompare(string column, StringValue value) =>
            value.IsPattern ? $"{column} LIKE {Add(ToLike(value.Text))}" : $"{column} = {Add(value.Text)}";

        private string Column(string field) => (_target, field) switch
        {
            (FilterTarget.Runs, "id") => "r.id",
            (FilterTarget.Runs, "session") => "r.session_id",
            (FilterTarget.Runs, "parent") => "r.parent_id",
            (FilterTarget.Runs, "kind") => "r.kind",
            (FilterTarget.Runs, "status") => "r.status",
            (FilterTarget.Runs, "name") => "r.name",
            (FilterTarget.Runs, "model") => "r.model",
            (FilterTarget.Runs, "provider") => "r.provider",
            (FilterTarget.Runs, "user") => "r.user_id",
            (FilterTarget.Runs, "source") => "r.source",
            (FilterTarget.Runs, "cost") => "r.cost_nanos",
            (FilterTarget.Runs, "input_tokens") => "r.input_tokens",
            (FilterTarget.Runs, "output_tokens") => "r.output_tokens",
            (FilterTarget.Runs, "total_tokens") => "r.total_tokens",
            (FilterTarget.Runs, "cached_tokens") => "r.cached_tokens",
            (FilterTarget.Runs, "reasoning_tokens") => "r.reasoning_tokens",
            (FilterTarget.Runs, "duration") => "r.duration_us",
            (FilterTarget.Runs, "started") => "r.started_at",
            (FilterTarget.Runs, "ended") => "r.ended_at",
            (FilterTarget.Runs, "error_type") => "r.error_type",
            (FilterTarget.Runs, "pinned") => "r.pinned",
            (FilterTarget.Events, "id") => "e.id",
            (FilterTarget.Events, "type") => "e.type",
            (FilterTarget.Events, "session") => "e.session_id",
            (FilterTarget.Events, "run") => "e.run_id",
            (FilterTarget.Events, "name") => "e.name",
            (FilterTarget.Events, "time") => "e.time",
            (FilterTarget.Sessions, "id") => "s.id",
            (FilterTarget.Sessions, "name") => "s.name",
            (FilterTarget.Sessions, "state") => "s.state",
            (FilterTarget.Sessions, "started") => "s.started_at",
            (FilterTarget.Sessions, "ended") => "s.ended_at",
            (FilterTarget.Sessions, "cost") => "s.cost_nanos",
            (FilterTarget.Sessions, "runs") => "s.run_count",
            (FilterTarget.Sessions, "failed") => "s.failed_count",
            (FilterTarget.Sessions, "input_tokens") => "s.input_tokens",
            (FilterTarget.Sessions, "output_tokens") => "s.output_tokens",
            _ => throw new ArgumentException($"Field '{field}' has no column for {FilterFields.Describe(_target)}.", nameof(field)),
        };

        private string Table => _target switch
        {
            FilterTarget.Runs => "r",
            FilterTarget.Events => "e",
            _ => "s",
        };

        private string Add(object? value)
        {
            var name = "@q" + _parameters.Count.ToString(CultureInfo.InvariantCulture);
            _parameters.Add(new KeyValuePair<string, object?>(name, value));
            return name;
        }

        private static StringValue RequireString(FieldFilter filter) =>
            filter.Value as StringValue ?? throw new ArgumentException($"{filter.Field} needs a text value.", nameof(filter));

        private static string Operator(CompareOp op) => op switch
        {
            CompareOp.Equal => "=",
            CompareOp.Less => "<",
            CompareOp.LessOrEqual => "<=",
            CompareOp.Greater => ">",
            CompareOp.GreaterOrEqual => ">=",
            _ => throw new ArgumentOutOfRangeException(nameof(op), op, "NotEqual is compiled as a negated Equal."),
        };

        private static bool IsKeyChar(char c) =>
            c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' or '.' or '-';
    }

    /// <summary>A decimal scaled to the column's unit, compared exactly as numeric (double only past decimal's range).</summary>
    private static object ToSqlNumber(decimal value, decimal scale)
    {
        try
        {
            return value * scale;
        }
        catch (OverflowException)
        {
            return (double)value * (double)scale;
        }
    }
}
