using System.Text;
using System.Text.Json;

namespace RunLedger.Core.Payloads;

/// <summary>Extracts the words of a body for a full-text index.</summary>
public static class PayloadText
{
    private static readonly JsonDocumentOptions ParseOptions = new()
    {
        MaxDepth = 100_000,
    };

    /// <summary>
    /// The text a store indexes for a run: the search text of its input, then of its output,
    /// then its error message, each cut at <paramref name="maxChars"/>, one per line. Empty when
    /// the run has none of them.
    /// </summary>
    public static string RunSearchText(string? input, string? output, string? errorMessage, int maxChars)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxChars);
        var text = RentBuilder();
        try
        {
            if (input is not null)
            {
                AppendSearchText(text, input, maxChars);
            }

            if (output is not null)
            {
                text.Append('\n');
                AppendSearchText(text, output, maxChars);
            }

            if (errorMessage is not null)
            {
                text.Append('\n').Append(errorMessage, 0, Math.Min(errorMessage.Length, maxChars));
            }

            return text.ToString();
        }
        finally
        {
            ReturnBuilder(text);
        }
    }

    /// <summary>
    /// The text to index for a JSON body: a string value as is; for arrays and objects every
    /// string value (never the keys) in document order, one per line; for chat messages
    /// (objects with <c>role</c> and <c>content</c>) only the content; for a truncation marker
    /// its preserved head. Numbers, booleans and nulls are left out. Stops at
    /// <paramref name="maxChars"/>. Never throws on a body: text that is not JSON is returned as is.
    /// </summary>
    public static string ExtractSearchText(string jsonText, int maxChars)
    {
        ArgumentNullException.ThrowIfNull(jsonText);
        ArgumentOutOfRangeException.ThrowIfNegative(maxChars);
        var text = RentBuilder();
        try
        {
            AppendSearchText(text, jsonText, maxChars);
            return text.ToString();
        }
        finally
        {
            ReturnBuilder(text);
        }
    }

    /// <summary>
    /// Appends <see cref="ExtractSearchText"/> of <paramref name="jsonText"/> to
    /// <paramref name="builder"/> (in place: a run's text is built once, not part by part and
    /// copied again).
    /// </summary>
    private static void AppendSearchText(StringBuilder builder, string jsonText, int maxChars)
    {
        if (maxChars == 0 || jsonText.Length == 0)
        {
            return;
        }

        if (TruncationMarker.TryParse(jsonText, out var marker))
        {
            AppendCut(builder, marker!.Head, maxChars);
            return;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(jsonText, ParseOptions);
        }
        catch (Exception exception) when (exception is JsonException or ArgumentException or InvalidOperationException)
        {
            AppendCut(builder, jsonText, maxChars);
            return;
        }

        using (document)
        {
            var start = builder.Length;
            Collect(document.RootElement, builder, start, maxChars);
            if (builder.Length - start > maxChars)
            {
                var length = maxChars;
                if (char.IsHighSurrogate(builder[start + length - 1]))
                {
                    length--;
                }

                builder.Length = start + length;
            }
        }
    }

    /// <summary>Scratch space of this thread (the builder and the walk's stack), reused call after call.</summary>
    [ThreadStatic]
    private static StringBuilder? t_builder;

    [ThreadStatic]
    private static Stack<(JsonElement Element, bool InContent)>? t_stack;

    [ThreadStatic]
    private static List<(JsonElement, bool)>? t_children;

    /// <summary>A builder kept between calls only while it is small; a huge body's builder is let go.</summary>
    private const int MaxKeptBuilderChars = 64 * 1024;

    /// <summary>The same for the walk's stack and its list of children.</summary>
    private const int MaxKeptWalkItems = 4096;

    private static StringBuilder RentBuilder()
    {
        var builder = t_builder ?? new StringBuilder(1024);
        t_builder = null;
        return builder;
    }

    private static void ReturnBuilder(StringBuilder builder)
    {
        if (builder.Capacity <= MaxKeptBuilderChars)
        {
            builder.Clear();
            t_builder = builder;
        }
    }

    private static void Collect(JsonElement root, StringBuilder builder, int start, int maxChars)
    {
        // Depth-first in document order with an explicit stack, so deep documents cannot overflow.
        var stack = t_stack ??= new Stack<(JsonElement Element, bool InContent)>();
        var children = t_children ??= [];
        stack.Push((root, false));
        try
        {
            while (stack.Count > 0 && builder.Length - start < maxChars)
            {
                var (element, inContent) = stack.Pop();
                children.Clear();
                switch (element.ValueKind)
                {
                    case JsonValueKind.String:
                        Append(builder, start, ReadString(element));
                        break;
                    case JsonValueKind.Array:
                        foreach (var item in element.EnumerateArray())
                        {
                            children.Add((item, inContent));
                        }

                        break;
                    case JsonValueKind.Object:
                        if (IsChatMessage(element, out var content))
                        {
                            children.Add((content, true));
                            break;
                        }

                        foreach (var property in element.EnumerateObject())
                        {
                            // Inside message content, "type" names a part kind ("text", "image_url"), not words.
                            if (inContent && property.NameEquals("type"))
                            {
                                continue;
                            }

                            children.Add((property.Value, inContent));
                        }

                        break;
                    default:
                        break;
                }

                for (var i = children.Count - 1; i >= 0; i--)
                {
                    stack.Push(children[i]);
                }
            }
        }
        finally
        {
            // The elements point into a document about to be returned to its pool.
            stack.Clear();
            children.Clear();
            if (stack.EnsureCapacity(0) > MaxKeptWalkItems || children.Capacity > MaxKeptWalkItems)
            {
                t_stack = null;
                t_children = null;
            }
        }
    }

    private static string? ReadString(JsonElement element)
    {
        try
        {
            return element.GetString();
        }
        catch (InvalidOperationException)
        {
            // Valid JSON may escape a lone surrogate ("\ud800"), which no .NET string decoder accepts.
            var raw = element.GetRawText();
            return raw[1..^1];
        }
    }

    private static bool IsChatMessage(JsonElement element, out JsonElement content)
    {
        content = default;
        return element.TryGetProperty("role", out var role) && role.ValueKind == JsonValueKind.String
            && element.TryGetProperty("content", out content);
    }

    private static void Append(StringBuilder builder, int start, string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return;
        }

        if (builder.Length > start)
        {
            builder.Append('\n');
        }

        builder.Append(text);
    }

    /// <summary>Appends at most <paramref name="maxChars"/> of a text, never half a surrogate pair.</summary>
    private static void AppendCut(StringBuilder builder, string text, int maxChars)
    {
        var length = text.Length;
        if (length > maxChars)
        {
            length = maxChars;
            if (char.IsHighSurrogate(text[length - 1]))
            {
                length--;
            }
        }

        builder.Append(text, 0, length);
    }
}
