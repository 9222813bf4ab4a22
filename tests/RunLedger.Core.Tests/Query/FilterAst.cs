using System.Globalization;
using System.Text;
using RunLedger.Core.Query;

namespace RunLedger.Core.Tests.Query;

/// <summary>Builders for expected ASTs and a structural dump that ignores positions.</summary>
internal static class FilterAst
{
    public static FieldFilter F(string field, CompareOp op, FilterValue value, string? key = null) => new(field, key, op, value);

    public static FieldFilter Eq(string field, string text) => new(field, null, CompareOp.Equal, new StringValue(text, false));

    public static FieldFilter Like(string field, string text) => new(field, null, CompareOp.Equal, new StringValue(text, true));

    public static FieldFilter Num(string field, CompareOp op, decimal number) => new(field, null, op, new NumberValue(number));

    public static FieldFilter Meta(string key, FilterValue value, CompareOp op = CompareOp.Equal) => new("metadata", key, op, value);

    public static StringValue S(string text) => new(text, false);

    public static TextFilter T(string text) => new(text);

    public static AndFilter And(params FilterNode[] terms) => new(terms);

    public static OrFilter Or(params FilterNode[] terms) => new(terms);

    public static NotFilter Not(FilterNode term) => new(term);

    public static DateTimeOffset Utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) => new(y, mo, d, h, mi, s, TimeSpan.Zero);

    /// <summary>An unambiguous rendering of the tree without positions, for structural comparison.</summary>
    public static string Dump(FilterNode? node)
    {
        var builder = new StringBuilder();
        Write(builder, node);
        return builder.ToString();
    }

    private static void Write(StringBuilder b, FilterNode? node)
    {
        switch (node)
        {
            case null:
                b.Append("null");
                break;
            case AndFilter and:
                b.Append("And(");
                WriteList(b, and.Terms);
                b.Append(')');
                break;
            case OrFilter or:
                b.Append("Or(");
                WriteList(b, or.Terms);
                b.Append(')');
                break;
            case NotFilter not:
                b.Append("Not(");
                Write(b, not.Term);
                b.Append(')');
                break;
            case TextFilter text:
                b.Append("Text[").Append(text.Text.Length).Append(']').Append(text.Text);
                break;
            case FieldFilter field:
                b.Append("Field(").Append(field.Field).Append(',').Append(field.Key ?? "~").Append(',').Append(field.Op).Append(',');
                b.Append(field.Value switch
                {
                    StringValue s => $"Str[{s.Text.Length},{s.IsPattern}]{s.Text}",
                    NumberValue n => "Num " + n.Number.ToString(CultureInfo.InvariantCulture),
                    DurationValue d => "Dur " + d.Duration.Ticks.ToString(CultureInfo.InvariantCulture),
                    RelativeTimeValue r => "Rel " + r.Offset.Ticks.ToString(CultureInfo.InvariantCulture),
                    TimeValue t => "Time " + t.Time.UtcTicks.ToString(CultureInfo.InvariantCulture),
                    _ => "?",
                });
                b.Append(')');
                break;
            default:
                b.Append('?');
                break;
        }
    }

    private static void WriteList(StringBuilder b, IReadOnlyList<FilterNode> terms)
    {
        for (var i = 0; i < terms.Count; i++)
        {
            if (i > 0)
            {
                b.Append(", ");
            }

            Write(b, terms[i]);
        }
    }
}
