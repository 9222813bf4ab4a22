using System.Text;

namespace RunLedger.Core.Query;

/// <summary>
/// Recursive-descent parser behind <see cref="FilterParser"/>.
/// <code>
/// filter  := or
/// or      := and ("OR" and)*
/// and     := unary (["AND"] unary)*
/// unary   := "-" unary | "NOT" unary | "(" or ")" | term
/// term    := field op value | quoted | word
/// op      := ":" | "=" | "!=" | "&lt;" | "&lt;=" | "&gt;" | "&gt;="
/// value   := (quoted | unquoted-chars)+
/// </code>
/// </summary>
internal sealed class FilterTextParser
{
    private const int MaxDepth = 64;

    private readonly string _text;
    private readonly FilterTarget _target;
    private int _pos;
    private int _depth;

    public FilterTextParser(string text, FilterTarget target)
    {
        _text = text;
        _target = target;
    }

    private bool AtEnd => _pos >= _text.Length;

    private char Current => _text[_pos];

    public FilterNode ParseAll()
    {
        var node = ParseOr();
        SkipSpace();
        if (!AtEnd)
        {
            // ParseOr stops only at the end or at a ')' it did not open.
            throw Error(_pos, "a term or the end of the filter", "unexpected ')' without a matching '('");
        }

        return node;
    }

    private FilterNode ParseOr()
    {
        SkipSpace();
        var start = _pos;
        var first = ParseAnd();
        List<FilterNode>? terms = null;
        while (true)
        {
            SkipSpace();
            if (!AtKeyword("OR"))
            {
                break;
            }

            _pos += 2;
            SkipSpace();
            if (AtEnd || Current == ')' || AtKeyword("OR") || AtKeyword("AND"))
            {
                throw Error(_pos, "a term after 'OR'", "expected a term after 'OR'");
            }

            terms ??= [first];
            terms.Add(ParseAnd());
        }

        return terms is null ? first : new OrFilter(terms) { Position = start };
    }

    private FilterNode ParseAnd()
    {
        SkipSpace();
        var start = _pos;
        var terms = new List<FilterNode>();
        while (true)
        {
            SkipSpace();
            if (AtEnd || Current == ')' || AtKeyword("OR"))
            {
                break;
            }

            if (AtKeyword("AND"))
            {
                if (terms.Count == 0)
                {
                    throw Error(_pos, "a term before 'AND'", "expected a term before 'AND'");
                }

                _pos += 3;
                SkipSpace();
                if (AtEnd || Current == ')' || AtKeyword("OR") || AtKeyword("AND"))
                {
                    throw Error(_pos, "a term after 'AND'", "expected a term after 'AND'");
                }

                continue;
            }

            terms.Add(ParseUnary());
        }

        if (terms.Count == 0)
        {
            if (AtEnd)
            {
                throw Error(_pos, "a term", "expected a term");
            }

            if (Current == ')')
            {
                throw Error(_pos, "a term before ')'", "expected a term before ')'; empty parentheses match nothing");
            }

            throw Error(_pos, "a term before 'OR'", "expected a term before 'OR'");
        }

        return terms.Count == 1 ? terms[0] : new AndFilter(terms) { Position = start };
    }

    private FilterNode ParseUnary()
    {
        var start = _pos;
        if (++_depth > MaxDepth)
        {
            throw Error(start, "fewer nested terms", $"the filter nests deeper than {MaxDepth} levels");
        }

        try
        {
            if (Current == '-')
            {
                _pos++;
                if (AtEnd || char.IsWhiteSpace(Current) || Current == ')')
                {
                    throw Error(_pos, "a term right after '-'", "expected a term right after '-' (no space), such as -status:succeeded");
                }

                return new NotFilter(ParseUnary()) { Position = start };
            }

            if (AtKeyword("NOT"))
            {
                _pos += 3;
                SkipSpace();
                if (AtEnd || Current == ')' || AtKeyword("OR") || AtKeyword("AND"))
                {
                    throw Error(_pos, "a term after 'NOT'", "expected a term after 'NOT'");
                }

                return new NotFilter(ParseUnary()) { Position = start };
            }

            if (Current == '(')
            {
                _pos++;
                var inner = ParseOr();
                SkipSpace();
                if (AtEnd)
                {
                    throw Error(start, "')'", "'(' is never closed; expected ')'");
                }

                _pos++;
                return inner;
            }

            if (Current == '"')
            {
                var text = ReadQuoted();
                if (text.Length == 0)
                {
                    throw Error(start, "text between the quotes", "expected text between the quotes");
                }

                return new TextFilter(text) { Position = start };
            }

            return ParseWordOrField();
        }
        finally
        {
            _depth--;
        }
    }

    private FilterNode ParseWordOrField()
    {
        var start = _pos;
        var nameEnd = _pos;
        while (nameEnd < _text.Length && IsNameChar(_text[nameEnd]))
        {
            nameEnd++;
        }

        if (TryReadOperator(nameEnd, out var op, out var opLength))
        {
            if (nameEnd == start)
            {
                throw Error(start, "a field name", $"expected a field name before '{_text.Substring(nameEnd, opLength)}'");
            }

            return ParseField(start, nameEnd, op, opLength);
        }

        var end = _pos;
        while (end < _text.Length && !IsDelimiter(_text[end]))
        {
            end++;
        }

        _pos = end;
        return new TextFilter(_text[start..end]) { Position = start };
    }

    private FieldFilter ParseField(int start, int nameEnd, CompareOp op, int opLength)
    {
        var typed = _text[start..nameEnd];
        var dot = typed.IndexOf('.', StringComparison.Ordinal);
        var baseName = dot < 0 ? typed : typed[..dot];
        var field = FilterFields.Find(_target, baseName) ?? throw UnknownField(start, typed, baseName);

        string? key = null;
        if (field.Type == FilterFieldType.Metadata)
        {
            if (dot < 0)
            {
                throw Error(nameEnd, "'.' and a metadata key", $"expected a key after '{typed}', such as {typed}.repository:\"acme/web\"");
            }

            key = typed[(dot + 1)..];
            if (key.Length == 0)
            {
                throw Error(nameEnd, "a metadata key", $"expected a metadata key after '{typed}' (letters, digits, '_', '.', '-')");
            }
        }
        else if (dot >= 0)
        {
            throw Error(start + dot, "an operator such as ':'", $"field '{field.Name}' has no keys; only metadata.<key> does");
        }

        var opText = _text.Substring(nameEnd, opLength);
        CheckOperator(field, op, nameEnd, typed, opText);

        var valueStart = nameEnd + opLength;
        _pos = valueStart;
        var (raw, isPattern, quoted) = ReadValue();
        var context = typed + opText;
        if (raw.Length == 0)
        {
            var what = quoted ? "a non-empty value" : "a value";
            throw Error(valueStart, ExpectedFor(field, context), $"expected {what} after '{context}' ({ExpectedFor(field, context)})");
        }

        var value = Interpret(field, op, raw, isPattern, quoted, valueStart, context);
        return new FieldFilter(field.Name, key, op, value) { Position = start };
    }

    private FilterValue Interpret(FilterField field, CompareOp op, string raw, bool isPattern, bool quoted, int at, string context)
    {
        var expected = ExpectedFor(field, context);
        if (isPattern && field.Type is not (FilterFieldType.String or FilterFieldType.Tag or FilterFieldType.Metadata))
        {
            throw Error(at, expected, $"'*' wildcards work on text fields only; expected {expected}");
        }

        switch (field.Type)
        {
            case FilterFieldType.String:
            case FilterFieldType.Tag:
                return new StringValue(raw, isPattern);

            case FilterFieldType.Enum:
                foreach (var candidate in field.Values)
                {
                    if (string.Equals(candidate, raw, StringComparison.OrdinalIgnoreCase))
                    {
                        return new StringValue(candidate, false);
                    }
                }

                throw Error(at, expected, $"unknown {field.Name} '{raw}'; expected {expected}");

            case FilterFieldType.Boolean:
                if (string.Equals(raw, "true", StringComparison.OrdinalIgnoreCase))
                {
                    return new StringValue("true", false);
                }

                if (string.Equals(raw, "false", StringComparison.OrdinalIgnoreCase))
                {
                    return new StringValue("false", false);
                }

                throw Error(at, expected, $"'{raw}' is not a boolean; expected {expected}");

            case FilterFieldType.Id:
                if (Guid.TryParse(raw, out var id))
                {
                    return new StringValue(id.ToString("D"), false);
                }

                throw Error(at, expected, $"'{raw}' is not a run id; expected {expected}");

            case FilterFieldType.Number:
                if (!quoted && FilterLiterals.TryParseNumber(raw, out var number))
                {
                    return new NumberValue(number);
                }

                throw Error(at, expected, $"'{raw}' is not a number; expected {expected}");

            case FilterFieldType.Duration:
                if (!quoted && FilterLiterals.TryParseDuration(raw, out var duration))
                {
                    return new DurationValue(duration);
                }

                throw Error(at, expected, $"'{raw}' is not a duration; expected {expected}");

            case FilterFieldType.Time:
                if (!quoted && FilterLiterals.TryParseRelativeTime(raw, out var offset))
                {
                    return new RelativeTimeValue(offset);
                }

                if (!quoted && FilterLiterals.TryParseAbsoluteTime(raw, out var time))
                {
                    return new TimeValue(time);
                }

                throw Error(at, expected, $"'{raw}' is not a time; expected {expected}");

            case FilterFieldType.Metadata:
                if (!isPattern && !quoted && FilterLiterals.TryParseNumber(raw, out var metaNumber))
                {
                    return new NumberValue(metaNumber);
                }

                if (op is not (CompareOp.Equal or CompareOp.NotEqual))
                {
                    throw Error(at, "a number", $"'{context}' compares numerically; '{raw}' is not a number");
                }

                return new StringValue(raw, isPattern);

            default:
                throw new InvalidOperationException($"Unhandled field type {field.Type}.");
        }
    }

    private void CheckOperator(FilterField field, CompareOp op, int at, string typed, string opText)
    {
        var ordering = op is not (CompareOp.Equal or CompareOp.NotEqual);
        switch (field.Type)
        {
            case FilterFieldType.Number:
            case FilterFieldType.Duration:
            case FilterFieldType.Metadata:
                return;
            case FilterFieldType.Time:
                if (ordering)
                {
                    return;
                }

                throw Error(at, "'<', '<=', '>' or '>='", $"'{opText}' can't compare times; use <, <=, > or >=, such as {typed}>=2026-11-01 or {typed}>-24h");
            default:
                if (!ordering)
                {
                    return;
                }

                throw Error(at, "':' or '!='", $"'{opText}' can't compare {typed} ({Describe(field.Type)}); use ':' or '!='");
        }
    }

    private (string Text, bool IsPattern, bool Quoted) ReadValue()
    {
        var builder = new StringBuilder();
        var isPattern = false;
        var quoted = false;
        while (!AtEnd)
        {
            var c = Current;
            if (c == '"')
            {
                builder.Append(ReadQuoted());
                quoted = true;
                continue;
            }

            if (char.IsWhiteSpace(c) || c == '(' || c == ')')
            {
                break;
            }

            if (c == '*')
            {
                isPattern = true;
            }

            builder.Append(c);
            _pos++;
        }

        return (builder.ToString(), isPattern, quoted);
    }

    private string ReadQuoted()
    {
        var open = _pos;
        _pos++;
        var builder = new StringBuilder();
        while (true)
        {
            if (AtEnd)
            {
                throw Error(open, "a closing '\"'", "this quoted string is never closed; expected a closing '\"'");
            }

            var c = Current;
            if (c == '"')
            {
                _pos++;
                return builder.ToString();
            }

            if (c == '\\')
            {
                if (_pos + 1 >= _text.Length)
                {
                    throw Error(_pos, "'\\\"' or '\\\\'", "a '\\' at the end of a quoted string escapes nothing; use \\\" or \\\\");
                }

                var next = _text[_pos + 1];
                if (next is not ('"' or '\\'))
                {
                    throw Error(_pos, "'\\\"' or '\\\\'", $"bad escape '\\{next}' in a quoted string; only \\\" and \\\\ are allowed");
                }

                builder.Append(next);
                _pos += 2;
                continue;
            }

            builder.Append(c);
            _pos++;
        }
    }

    private bool TryReadOperator(int at, out CompareOp op, out int length)
    {
        op = CompareOp.Equal;
        length = 0;
        if (at >= _text.Length)
        {
            return false;
        }

        var next = at + 1 < _text.Length ? _text[at + 1] : '\0';
        (op, length) = _text[at] switch
        {
            ':' => (CompareOp.Equal, 1),
            '=' => (CompareOp.Equal, 1),
            '!' when next == '=' => (CompareOp.NotEqual, 2),
            '<' when next == '=' => (CompareOp.LessOrEqual, 2),
            '<' => (CompareOp.Less, 1),
            '>' when next == '=' => (CompareOp.GreaterOrEqual, 2),
            '>' => (CompareOp.Greater, 1),
            _ => (CompareOp.Equal, 0),
        };
        return length > 0;
    }

    private bool AtKeyword(string keyword)
    {
        if (string.CompareOrdinal(_text, _pos, keyword, 0, keyword.Length) != 0)
        {
            return false;
        }

        var after = _pos + keyword.Length;
        return after >= _text.Length || IsDelimiter(_text[after]);
    }

    private void SkipSpace()
    {
        while (!AtEnd && char.IsWhiteSpace(Current))
        {
            _pos++;
        }
    }

    private FilterSyntaxException UnknownField(int at, string typed, string baseName)
    {
        var fields = FilterFields.For(_target);
        var suggestions = new List<string>();
        foreach (var field in fields)
        {
            var names = field.Aliases.Prepend(field.Name);
            if (names.Any(n => IsClose(n, baseName)))
            {
                suggestions.Add(field.Type == FilterFieldType.Metadata ? field.Name + ".<key>" : field.Name);
            }
        }

        var known = string.Join(", ", fields.Select(f => f.Type == FilterFieldType.Metadata ? f.Name + ".<key>" : f.Name));
        var hint = suggestions.Count > 0 ? $"did you mean {string.Join(" or ", suggestions.Select(s => $"'{s}'"))}? " : string.Empty;
        return Error(
            at,
            $"a field name (one of {known})",
            $"unknown field '{typed}' for {FilterFields.Describe(_target)}; {hint}known fields: {known}. To search for text containing ':', put it in quotes");
    }

    private static bool IsClose(string candidate, string typed)
    {
        if (typed.Length >= 3 && candidate.StartsWith(typed, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return Distance(candidate.ToUpperInvariant(), typed.ToUpperInvariant()) <= (typed.Length <= 4 ? 1 : 2);
    }

    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    private static string ExpectedFor(FilterField field, string context) => field.Type switch
    {
        FilterFieldType.Enum => $"one of {string.Join(", ", field.Values)}",
        FilterFieldType.Boolean => "true or false",
        FilterFieldType.Id => $"a UUID, such as {field.Example}",
        FilterFieldType.Number => $"a number, such as {field.Example}",
        FilterFieldType.Duration => "a duration, such as 250ms, 30s, 1.5m, 2h or 1d",
        FilterFieldType.Time => "a time, such as -24h, -7d, 2026-11-01 or 2026-11-01T08:00:00Z",
        FilterFieldType.Metadata => "a number or a string, such as metadata.repository:\"acme/web\"",
        _ => $"text, such as {context}\"some value\" or {context}prefix*",
    };

    private static string Describe(FilterFieldType type) => type switch
    {
        FilterFieldType.Enum => "a fixed set of names",
        FilterFieldType.Boolean => "true or false",
        FilterFieldType.Id => "an id",
        FilterFieldType.Tag => "a tag",
        _ => "text",
    };

    private static bool IsNameChar(char c) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' or '.' or '-';

    private static bool IsDelimiter(char c) => char.IsWhiteSpace(c) || c is '(' or ')' or '"';

    private static FilterSyntaxException Error(int position, string expected, string detail) =>
        new($"column {position + 1}: {detail}", position, expected);
}
