using System.Text.Json;

namespace RunLedger.Core.Payloads;

/// <summary>
/// What is stored instead of a body over the size limit:
/// <c>{"$truncated":true,"originalBytes":N,"sha256":"hex","head":"first bytes of the body"}</c>.
/// It is a valid JSON value, so every reader can show it, and it says plainly what was cut.
/// </summary>
/// <param name="OriginalBytes">The size of the original body in UTF-8 bytes.</param>
/// <param name="Sha256">The lower-case hex SHA-256 of the original body's UTF-8 bytes.</param>
/// <param name="Head">The start of the original JSON text, cut at a character boundary.</param>
public sealed record TruncationMarker(long OriginalBytes, string Sha256, string Head)
{
    /// <summary>The property that flags a marker; it is always the first one.</summary>
    public const string FlagProperty = "$truncated";

    private const string Prefix = "{\"" + FlagProperty + "\":true";

    /// <summary>Reads a marker; false when <paramref name="json"/> is anything else.</summary>
    public static bool TryParse(string? json, out TruncationMarker? marker)
    {
        marker = null;
        if (json is null || !json.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.TryGetProperty("originalBytes", out var size) && size.ValueKind == JsonValueKind.Number
                && size.TryGetInt64(out var originalBytes)
                && root.TryGetProperty("sha256", out var hash) && hash.ValueKind == JsonValueKind.String
                && root.TryGetProperty("head", out var head) && head.ValueKind == JsonValueKind.String)
            {
                marker = new TruncationMarker(originalBytes, hash.GetString()!, head.GetString()!);
                return true;
            }
        }
        catch (Exception exception) when (exception is JsonException or ArgumentException or InvalidOperationException)
        {
        }

        return false;
    }
}
