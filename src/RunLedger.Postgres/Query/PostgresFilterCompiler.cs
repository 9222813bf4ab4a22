using System.Text;
using RunLedger.Core.Query;

namespace RunLedger.Postgres.Query;

/// <summary>
/// Compiles a filter AST to a parameterized PostgreSQL WHERE fragment over <c>runs r</c>,
/// <c>events e</c> or <c>sessions s</c>, with the same results as the SQLite compiler (the walk
/// and the checks are shared in <see cref="FilterSqlBuilder"/>; this is the PostgreSQL spelling).
/// Negations compile to <c>(expr) IS NOT TRUE</c>.
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

    public static SqlFragment Compile(FilterNode node, FilterTarget target, DateTimeOffset now) => new Builder(target, now).Build(node);

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

    private sealed class Builder(FilterTarget target, DateTimeOffset now) : FilterSqlBuilder(target, now)
    {
        protected override string True => "TRUE";

        protected override string False => "FALSE";

        protected override string Not(string sql) => $"({sql}) IS NOT TRUE";

        protected override string Text(string text)
        {
            if (Target == FilterTarget.Runs)
            {
                return SearchText.ToQuery(text) is { } query ? $"r.search @@ {Add(query)}::tsquery" : "FALSE";
            }

            var column = Target == FilterTarget.Events ? "e.data" : "s.name";
            var pattern = Add("%" + EscapeLike(AsciiLowerCase(text)) + "%");
            return $"translate({column}, '{AsciiUpper}', '{AsciiLower}') LIKE {pattern}";
        }

        protected override string Tag(StringValue value) => value.IsPattern
            ? $"EXISTS (SELECT 1 FROM unnest(r.tags) AS t(tag) WHERE t.tag LIKE {Add(ToLike(value.Text))})"
            : $"r.tags @> ARRAY[{Add(value.Text)}::text]";

        protected override string StringCompare(string column, StringValue value) =>
            value.IsPattern ? $"{column} LIKE {Add(ToLike(value.Text))}" : $"{column} = {Add(value.Text)}";

        protected override object IdParameter(Guid id) => id;

        protected override string BooleanEquals(string column, bool flag) => $"{column} = {(flag ? "TRUE" : "FALSE")}";

        /// <summary>A decimal scaled to the column's unit, compared exactly as numeric (double only past decimal's range).</summary>
        protected override object NumberParameter(decimal value, decimal scale)
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

        protected override string MetadataNumber(string key, CompareOp op, decimal number)
        {
            var json = Json;
            var k = Add(key);

            // CASE, not AND: PostgreSQL may evaluate AND operands in any order, and the cast must only see numbers.
            return $"CASE WHEN jsonb_typeof({json} -> {k}) = 'number' THEN ({json} ->> {k})::numeric {Operator(op)} {Add(NumberParameter(number, 1m))} END";
        }

        protected override string MetadataPattern(string key, string pattern)
        {
            var json = Json;
            var k = Add(key);
            return $"(jsonb_typeof({json} -> {k}) = 'string' AND ({json} ->> {k}) LIKE {Add(ToLike(pattern))})";
        }

        // Containment (@>) is what the GIN index on the metadata answers.
        protected override string MetadataLiteral(string key, string literal)
        {
            var json = Json;
            var k = Add(key);
            var p = Add(literal);
            return $"({json} @> jsonb_build_object({k}::text, {p}::text) OR {json} @> jsonb_build_object({k}::text, {p}::jsonb))";
        }

        protected override string MetadataString(string key, string text) =>
            $"{Json} @> jsonb_build_object({Add(key)}::text, {Add(text)}::text)";

        private string Json => $"{Table}.metadata_json";
    }
}
