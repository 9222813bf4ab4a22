using System.Text.Json;
using RunLedger.Core.Security;

namespace RunLedger.Cli.Rendering;

/// <summary>Key scopes as text, whichever way the server wrote them (array of names, string or flags number).</summary>
internal static class KeyScopesText
{
    public static string From(JsonElement scopes) => scopes.ValueKind switch
    {
        JsonValueKind.Array => string.Join(',', scopes.EnumerateArray().Select(s => s.ValueKind == JsonValueKind.String ? s.GetString() : s.GetRawText())),
        JsonValueKind.String => scopes.GetString() ?? string.Empty,
        JsonValueKind.Number when scopes.TryGetInt32(out var flags) => ApiKeySecrets.FormatScopes((KeyScopes)flags),
        _ => Format.None,
    };
}
