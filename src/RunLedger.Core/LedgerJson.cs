using System.Text.Json;
using System.Text.Json.Serialization;

namespace RunLedger.Core;

/// <summary>The JSON settings of the wire format: camelCase, nulls left out, invariant numbers.</summary>
public static class LedgerJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    /// <summary>Applies the wire settings to options owned by someone else (ASP.NET Core's).</summary>
    public static void Apply(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.PropertyNameCaseInsensitive = true;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.NumberHandling = JsonNumberHandling.Strict;
        options.AllowTrailingCommas = false;
        options.ReadCommentHandling = JsonCommentHandling.Disallow;
    }

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Apply(options);
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
