using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using RunLedger.Core.Model;

namespace RunLedger.Cli.Rendering;

/// <summary>Turns a stored body (input, output, parameters, event data) into readable text.</summary>
internal static class BodyText
{
    private static readonly JsonSerializerOptions Pretty = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// A string body as its text; chat messages (<c>[{"role","content"}]</c>) as "role: content"
    /// blocks; any other JSON indented. A truncation marker from the server is said in words.
    /// </summary>
    public static string Render(RawJson? body)
    {
        if (body is null)
        {
            return string.Empty;
        }

        using var document = body.ToDocument();
        var root = document.RootElement;
        return root.ValueKind switch
        {
            JsonValueKind.String => root.GetString() ?? string.Empty,
            JsonValueKind.Array when IsChat(root) => RenderChat(root),
            JsonValueKind.Object when root.TryGetProperty("$truncated", out var flag) && flag.ValueKind == JsonValueKind.True => RenderTruncated(root),
            _ => JsonSerializer.Serialize(root, Pretty),
        };
    }

    /// <summary>A one-line summary of a body for tables.</summary>
    public static string Summary(RawJson? body, int max) => Format.OneLine(Render(body), max);

    /// <summary>
    /// Cuts <paramref name="text"/> to at most <paramref name="maxLines"/> lines and
    /// <paramref name="maxChars"/> characters, saying how much was left out.
    /// </summary>
    public static string Truncate(string text, int maxLines, int maxChars)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.Split('\n');
        var kept = new StringBuilder();
        var shownLines = 0;
        foreach (var line in lines)
        {
            if (shownLines == maxLines || kept.Length + line.Length > maxChars)
            {
                if (shownLines == 0)
                {
                    kept.Append(line.AsSpan(0, Math.Min(line.Length, maxChars)));
                    shownLines = 1;
                }

                break;
            }

            if (shownLines > 0)
            {
                kept.Append('\n');
            }

            kept.Append(line);
            shownLines++;
        }

        if (kept.Length >= text.Length)
        {
            return text;
        }

        var hiddenLines = lines.Length - shownLines;
        var hiddenChars = text.Length - kept.Length;
        kept.Append('\n').Append(hiddenLines > 0
            ? $"… {hiddenLines} more lines ({hiddenChars} characters); --full shows everything"
            : $"… {hiddenChars} more characters; --full shows everything");
        return kept.ToString();
    }

    private static bool IsChat(JsonElement array)
    {
        var any = false;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
            {
                return false;
            }

            any = true;
        }

        return any;
    }

    private static string RenderChat(JsonElement messages)
    {
        var builder = new StringBuilder();
        foreach (var message in messages.EnumerateArray())
        {
            if (builder.Length > 0)
            {
                builder.Append('\n');
            }

            builder.Append('[').Append(message.GetProperty("role").GetString()).Append("] ");
            if (message.TryGetProperty("content", out var content))
            {
                builder.Append(content.ValueKind == JsonValueKind.String ? content.GetString() : JsonSerializer.Serialize(content, Pretty));
            }

            foreach (var property in message.EnumerateObject())
            {
                if (property.Name is not ("role" or "content"))
                {
                    builder.Append('\n').Append("  ").Append(property.Name).Append(": ").Append(property.Value.ValueKind == JsonValueKind.String
                        ? property.Value.GetString()
                        : JsonSerializer.Serialize(property.Value, Pretty));
                }
            }
        }

        return builder.ToString();
    }

    private static string RenderTruncated(JsonElement marker)
    {
        var size = marker.TryGetProperty("originalBytes", out var bytes) && bytes.TryGetInt64(out var n) ? n : 0;
        var head = marker.TryGetProperty("head", out var text) && text.ValueKind == JsonValueKind.String ? text.GetString() : null;
        var hash = marker.TryGetProperty("sha256", out var sha) ? sha.GetString() : null;
        return $"{head}\n… stored truncated by the server: {size} bytes originally, sha256 {hash}";
    }
}
