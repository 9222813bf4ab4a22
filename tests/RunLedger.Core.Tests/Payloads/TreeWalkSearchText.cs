using System.Text;
using System.Text.Json;
using RunLedger.Core.Payloads;

namespace RunLedger.Core.Tests.Payloads;

/// <summary>
/// The plain tree walk over a <see cref="JsonDocument"/> that <see cref="PayloadText"/> once was:
/// slow, but obviously right, so the streaming extraction is checked against it.
/// </summary>
internal static class TreeWalkSearchText
{
    public static string Extract(string jsonText, int maxChars)
    {
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
            document = JsonDocument.Parse(jsonText, new JsonDocumentOptions { MaxDepth = 100_000 });
        }
        catch (Exception exception) when (exception is JsonException or ArgumentException or InvalidOperationException)
        {
            return Cut(jsonText, maxChars);
        }

        using (document)
        {
            var builder = new StringBuilder();
            Collect(document.RootElement, false, builder, maxChars);
            return Cut(builder.ToString(), maxChars);
        }
    }

    private static void Collect(JsonElement element, bool inContent, StringBuilder builder, int maxChars)
    {
        if (builder.Length >= maxChars)
        {
            return;
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                string? text;
                try
                {
                    text = element.GetString();
                }
                catch (InvalidOperationException)
                {
                    text = element.GetRawText()[1..^1];
                }

                if (!string.IsNullOrEmpty(text))
                {
                    builder.Append(builder.Length > 0 ? "\n" : "").Append(text);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    Collect(item, inContent, builder, maxChars);
                }

                break;
            case JsonValueKind.Object:
                if (element.TryGetProperty("role", out var role) && role.ValueKind == JsonValueKind.String
                    && element.TryGetProperty("content", out var content))
                {
                    Collect(content, true, builder, maxChars);
                    break;
                }

                foreach (var property in element.EnumerateObject())
                {
                    if (!(inContent && property.NameEquals("type")))
                    {
                        Collect(property.Value, inContent, builder, maxChars);
                    }
                }

                break;
            default:
                break;
        }
    }

    private static string Cut(string text, int maxChars)
    {
        if (text.Length <= maxChars)
        {
            return text;
        }

        var length = char.IsHighSurrogate(text[maxChars - 1]) ? maxChars - 1 : maxChars;
        return text[..length];
    }
}
