using System.Globalization;
using System.Text;
using RunLedger.Core.Query;

namespace RunLedger.Sqlite.Query;

/// <summary>
/// Compiles a filter AST to a parameterized SQLite WHERE fragment over <c>runs r</c>,
/// <c>events e</c> or <c>sessions s</c>. User text never reaches the SQL text: every value is
/// a parameter named <c>@q0</c>, <c>@q1</c>, ... (callers must not use that prefix).
/// <para>
/// Matching is two-valued: a row matches a term only when the term is true. A missing column
/// (NULL) never matches a positive comparison, and a negation (<c>-term</c>, <c>NOT term</c>,
/// <c>field!=value</c>) matches exactly the rows the positive term does not, NULLs included:
/// <c>-model:x</c> also returns runs without a model. Negations compile to
/// <c>(expr) IS NOT 1</c>, which is true for false and for NULL.
/// </para>
/// <para>
/// Wildcards compile to case-sensitive GLOB with <c>[</c>, <c>]</c> and <c>?</c> escaped as
/// bracket sets; a pattern that is a prefix followed by one trailing <c>*</c> also gets a
/// <c>col &gt;= prefix AND col &lt; next</c> range so an index on the column can be used.
/// </para>
/// </summary>
internal static class SqliteFilterCompiler
{
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

    /// <summary>Escapes GLOB metacharacters other than '*', which stays a wildcard.</summary>
    internal static string ToGlob(string pattern)
    {
        var builder = new StringBuilder(pattern.Length + 8);
        foreach (var c in pattern)
        {
            _ = c switch
            {
                '[' => builder.Append("[[]"),
                ']' => builder.Append("[]]"),
                '?' => builder.Append("[?]"),
                _ => builder.Append(c),
            };
        }

        return builder.ToString();
    }

    /// <summary>Wraps free text as one FTS5 phrase: inner double quotes doubled, so no FTS5 syntax applies.</summary>
    internal static string ToFtsPhrase(string text) => "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private sealed class Builder
    {
        private const string Runs = "r";
        private const string Events = "e";
        private const string Sessions = "s";

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
            AndFilter and => Join(and.Terms, " AND ", "1"),
            OrFilter or => Join(or.Terms, " OR ", "0"),
            NotFilter not => Not(Node(not.Term)),
            FieldFilter field => Field(field),
            TextFilter text => Text(text.Text),
            _ => throw new ArgumentException($"Unknown filter node {node.GetType().Name}.", nameof(node)),
        };

        private static string Not(string sql) => $"({sql}) IS NOT 1";

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
            var p = Add(_target == FilterTarget.Runs ? ToFtsPhrase(text) : text);
            return _target switch
            {
                // Runs above fts_progress.indexed_seq are not in runs_fts yet (indexing follows the
                // commit): they are matched by their bodies with the same word rules.
                FilterTarget.Runs => $"(r.seq IN (SELECT rowid FROM runs_fts WHERE runs_fts MATCH {p}) OR " +
                    $"(r.seq > (SELECT indexed_seq FROM fts_progress WHERE id = 1) AND {SqliteTailSearch.FunctionName}({Add(text)}, " +
                    "(SELECT encoding FROM payloads WHERE hash = r.input_hash), (SELECT data FROM payloads WHERE hash = r.input_hash), " +
                    "(SELECT encoding FROM payloads WHERE hash = r.output_hash), (SELECT data FROM payloads WHERE hash = r.output_hash), r.error_message)))",
                FilterTarget.Events => $"instr(lower(e.data), lower({p})) > 0",
                _ => $"instr(lower(s.name), lower({p})) > 0",
            };
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
                        var (cmp, value) = text.IsPattern ? ("GLOB", ToGlob(text.Text)) : ("=", text.Text);
                        return $"EXISTS (SELECT 1 FROM json_each({Table}.tags) WHERE value {cmp} {Add(value)})";
                    }

                case FilterFieldType.Id:
                    {
                        var text = RequireString(filter);
                        if (!Guid.TryParse(text.Text, out var id))
                        {
                            throw new ArgumentException($"'{text.Text}' is not a UUID.", nameof(filter));
                        }

                        return $"{Column(field.Name)} = {Add(id.ToByteArray(bigEndian: true))}";
                    }

                case FilterFieldType.Boolean:
                    {
                        var text = RequireString(filter);
                        var flag = string.Equals(text.Text, "true", StringComparison.OrdinalIgnoreCase) ? 1L : 0L;
                        return $"{Column(field.Name)} = {Add(flag)}";
                    }

                case FilterFieldType.Enum when field.Name == "is":
                    return RequireString(filter).Text switch
                    {
                        "root" => "r.parent_id IS NULL",
                        "pinned" => "r.pinned = 1",
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
                        return $"{Column(field.Name)} {Operator(op)} {Add(ToMicros(time))}";
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

            var json = $"{Table}.metadata";
            var path = Add("$.\"" + key + "\"");
            var extract = $"json_extract({json}, {path})";
            switch (filter.Value)
            {
                case NumberValue number:
                    return $"(json_type({json}, {path}) IN ('integer', 'real') AND {extract} {Operator(op)} {Add(ToSqlNumber(number.Number, 1m))})";
                case StringValue text when op != CompareOp.Equal:
                    throw new ArgumentException($"metadata.{key} can only be compared with '<', '>' and so on against a number.", nameof(filter));
                // Strings and patterns match only values stored as JSON strings: json_extract
                // gives numbers and objects too, and 10 would otherwise match "1*".
                case StringValue { IsPattern: true } pattern:
                    return $"(json_type({json}, {path}) = 'text' AND {extract} GLOB {Add(ToGlob(pattern.Text))})";
                case StringValue { Text: "true" or "false" or "null" } literal:
                    {
                        var p = Add(literal.Text);
                        return $"(json_type({json}, {path}) = {p} OR {extract} = {p})";
                    }

                case StringValue text:
                    return $"(json_type({json}, {path}) = 'text' AND {extract} = {Add(text.Text)})";
                default:
                    throw new ArgumentException($"metadata.{key} needs a number or a string.", nameof(filter));
            }
        }

        private string StringCompare(string column, StringValue value)
        {
            if (!value.IsPattern)
            {
                return $"{column} = {Add(value.Text)}";
            }

            // A prefix pattern ("gpt-4o*") also gets a range the column's index can use; the
            // GLOB keeps the match exact. UTF-8 byte order equals code point order, so bumping
            // the last (non-surrogate) character gives the first string past the prefix.
            var star = value.Text.IndexOf('*', StringComparison.Ordinal);
            var range = string.Empty;
            if (star > 0 && star == value.Text.Length - 1 && value.Text[star - 1] < '\uD7FF')
            {
                var prefix = value.Text[..star];
                var upper = prefix[..^1] + (char)(prefix[^1] + 1);
                range = $"{column} >= {Add(prefix)} AND {column} < {Add(upper)} AND ";
            }

            var glob = $"{column} GLOB {Add(ToGlob(value.Text))}";
            return range.Length == 0 ? glob : $"({range}{glob})";
        }

        private string Column(string field) => FilterColumns.Column(_target, field);

        private string Table => _target switch
        {
            FilterTarget.Runs => Runs,
            FilterTarget.Events => Events,
            _ => Sessions,
        };

        private string Add(object? value)
        {
            var name = "@q" + _parameters.Count.ToString(CultureInfo.InvariantCulture);
            _parameters.Add(new KeyValuePair<string, object?>(name, value));
            return name;
        }

        private static StringValue RequireString(FieldFilter filter) =>
            filter.Value as StringValue ?? throw new ArgumentException($"{filter.Field} needs a text value.", nameof(filter));

        private static string Operator(CompareOp op) => FilterColumns.Operator(op);

        private static bool IsKeyChar(char c) => FilterColumns.IsMetadataKeyChar(c);
    }

    /// <summary>A decimal scaled to the column's unit: a long when exact, else a double.</summary>
    private static object ToSqlNumber(decimal value, decimal scale)
    {
        try
        {
            var scaled = value * scale;
            if (scaled == decimal.Truncate(scaled) && scaled >= long.MinValue && scaled <= long.MaxValue)
            {
                return (long)scaled;
            }

            return (double)scaled;
        }
        catch (OverflowException)
        {
            return (double)value * (double)scale;
        }
    }

    private static long ToMicros(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;
}
