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
        var text = new StringBuilder();
        if (input is not null)
        {
            text.Append(ExtractSearchText(input, maxChars));
        }

        if (output is not null)
        {
            text.Append('\n').Append(ExtractSearchText(output, maxChars));
        }

        if (errorMessage is not null)
        {
            text.Append('\n').Append(errorMessage.Length > maxChars ? errorMessage[..maxChars] : errorMessage);
        }

        return text.ToString();
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
        if (maxChars == 0 || jsonText.Length == 0)
        {
            return string.Empty;
        }

        if (TruncationMarker.TryParse(jsonText, out var marker))
        {
            return Cut(marker!.Head, maxChars);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(jsonText, ParseOptions);
        }
        catch (Exception exception) when (exception is JsonException or ArgumentException or InvalidOperationException)
        {
            return Cut(jsonText, maxChars);
        }

        using (document)
        {
            var builder = new StringBuilder(Math.Min(maxChars, jsonText.Length));
            Collect(document.RootElement, builder, maxChars);
            return Cut(builder.ToString(), maxChars);
        }
    }

    private static void Collect(JsonElement root, StringBuilder builder, int maxChars)
    {
        // Depth-first in document order with an explicit stack, so deep documents cannot overflow.
        var stack = new Stack<(JsonElement Element, bool InContent)>();
        stack.Push((root, false));
        var children = new List<(JsonElement, bool)>();
        while (stack.Count > 0 && builder.Length < maxChars)
        {
            var (element, inContent) = stack.Pop();
            children.Clear();
            switch (element.ValueKind)
            {
                case JsonValueKind.String:
                    Append(builder, ReadString(element));
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

    private static void Append(StringBuilder builder, string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return;
        }

        if (builder.Length > 0)
        {
            builder.Append('\n');
        }

        builder.Append(text);
    }

    private static string Cut(string text, int maxChars)
    {
        if (text.Length <= maxChars)
        {
            return text;
        }

        var length = maxChars;
        if (char.IsHighSurrogate(text[length - 1]))
        {
            length--;
        }

        return text[..length];
    }
}
