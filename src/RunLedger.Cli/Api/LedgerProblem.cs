using System.Text.Json;
using System.Text.Json.Serialization;

namespace RunLedger.Cli.Api;

/// <summary>An RFC 9457 problem details body as the server sends it with every error.</summary>
public sealed record LedgerProblem
{
    public string? Type { get; init; }

    public string? Title { get; init; }

    public int? Status { get; init; }

    public string? Detail { get; init; }

    /// <summary>The request field the problem is about (<c>q</c>, <c>$.runs[3].costUsd</c>).</summary>
    public string? Field { get; init; }

    /// <summary>For filter errors, the one-based column in the filter text.</summary>
    public int? Column { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extensions { get; init; }
}
