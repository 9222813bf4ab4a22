using System.Text;

namespace RunLedger.Core.Query;

/// <summary>
/// Prints a filter as canonical text: canonical field names, one space between AND terms,
/// <c>OR</c> in upper case, parentheses only where precedence needs them, quotes only where a
/// value needs them. <c>FilterParser.Parse(Print(node))</c> gives back an equivalent AST.
/// </summary>
public static class FilterPrinter
{
    public static string Print(FilterNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var builder = new StringBuilder();
        Write(builder, node);
        return builder.ToString();
    }

    private static void Write(StringBuilder builder, FilterNode node)
    {
        switch (node)
        {
            case AndFilter and:
                WriteList(builder, and.Terms, " ", t => t is AndFilter or OrFilter);
                break;
            case OrFilter or:
                WriteList(builder, or.Terms, " OR ", t => t is OrFilter);
                break;
            case NotFilter not:
                builder.Append('-');
                WriteGrouped(builder, not.Term, not.Term is AndFilter or OrFilter);
                break;
            case FieldFilter field:
                WriteField(builder, field);
                break;
            case TextFilter text:
                WriteText(builder, text.Text);
                break;
            default:
                throw new ArgumentException($"Unknown filter node {node.GetType().Name}.", nameof(node));
        }
    }

    private static void WriteList(StringBuilder builder, IReadOnlyList<FilterNode> terms, string separator, Func<FilterNode, bool> needsParentheses)
    {
        if (terms.Count == 0)
        {
            throw new ArgumentException("AND and OR filters need at least one term.", nameof(terms));
        }

        for (var i = 0; i < terms.Count; i++)
        {
            if (i > 0)
            {
                builder.Append(separator);
            }

            WriteGrouped(builder, terms[i], terms.Count > 1 && needsParentheses(terms[i]));
        }
    }

    private static void WriteGrouped(StringBuilder builder, FilterNode node, bool parenthesize)
    {
        if (parenthesize)
        {
            builder.Append('(');
            Write(builder, node);
            builder.Append(')');
        }
        else
        {
            Write(builder, node);
        }
    }

    private static void WriteField(StringBuilder builder, FieldFilter field)
    {
        builder.Append(field.Field);
        if (field.Key is not null)
        {
            builder.Append('.').Append(field.Key);
        }

        builder.Append(field.Op switch
        {
            CompareOp.Equal => ":",
            CompareOp.NotEqual => "!=",
            CompareOp.Less => "<",
            CompareOp.LessOrEqual => "<=",
            CompareOp.Greater => ">",
            CompareOp.GreaterOrEqual => ">=",
            _ => throw new ArgumentException($"Unknown operator {field.Op}.", nameof(field)),
        });

        switch (field.Value)
        {
            case StringValue { IsPattern: true } pattern when pattern.Text.Contains('*', StringComparison.Ordinal):
                WritePattern(builder, pattern.Text);
                break;
            case StringValue text:
                var mustQuote = field.Key is not null && FilterLiterals.TryParseNumber(text.Text, out _);
                if (mustQuote || !IsSafeValue(text.Text))
                {
                    WriteQuoted(builder, text.Text);
                }
                else
                {
                    builder.Append(text.Text);
                }

                break;
            case NumberValue number:
                builder.Append(FilterLiterals.FormatNumber(number.Number));
                break;
            case DurationValue duration:
                builder.Append(FilterLiterals.FormatDuration(duration.Duration));
                break;
            case RelativeTimeValue relative:
                builder.Append(FilterLiterals.FormatRelativeTime(relative.Offset));
                break;
            case TimeValue time:
                builder.Append(FilterLiterals.FormatAbsoluteTime(time.Time));
                break;
            default:
                throw new ArgumentException($"Unknown filter value {field.Value?.GetType().Name}.", nameof(field));
        }
    }

    /// <summary>Wildcards stay bare; runs of characters that need quoting go in quoted segments.</summary>
    private static void WritePattern(StringBuilder builder, string text)
    {
        var i = 0;
        while (i < text.Length)
        {
            if (IsSafeValueChar(text[i]) || text[i] == '*')
            {
                builder.Append(text[i]);
                i++;
                continue;
            }

            var start = i;
            while (i < text.Length && text[i] != '*' && !IsSafeValueChar(text[i]))
            {
                i++;
            }

            WriteQuoted(builder, text[start..i]);
        }
    }

    private static void WriteText(StringBuilder builder, string text)
    {
        var bare = text.Length > 0
            && text is not ("AND" or "OR" or "NOT")
            && text.All(c => char.IsLetterOrDigit(c) || c == '_');
        if (bare)
        {
            builder.Append(text);
        }
        else
        {
            WriteQuoted(builder, text);
        }
    }

    private static void WriteQuoted(StringBuilder builder, string text)
    {
        builder.Append('"');
        foreach (var c in text)
        {
            if (c is '"' or '\\')
            {
                builder.Append('\\');
            }

            builder.Append(c);
        }

        builder.Append('"');
    }

    private static bool IsSafeValue(string text) => text.Length > 0 && text.All(IsSafeValueChar);

    private static bool IsSafeValueChar(char c) =>
        !char.IsWhiteSpace(c) && !char.IsControl(c) && !char.IsSurrogate(c) && c is not ('(' or ')' or '"' or '\\' or '*');
}
