using System.Text.Json;
using System.Text.Json.Serialization;
using RunLedger.Core.Model;

namespace RunLedger.Cli.Api;

/// <summary>A page of events, oldest first, with the id to pass as <c>after</c> next time.</summary>
public sealed record EventPage(IReadOnlyList<LedgerEvent> Items, long? LastId);

/// <summary>A project as <c>GET /v1/projects</c> lists it.</summary>
public sealed record ProjectInfo
{
    public long Id { get; init; }

    public required string Name { get; init; }

    public DateTimeOffset? CreatedAt { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; init; }
}

/// <summary>An API key as listed (never the secret).</summary>
public sealed record KeyInfo
{
    public long Id { get; init; }

    public string? Name { get; init; }

    public string? Prefix { get; init; }

    public string? Project { get; init; }

    public string? ProjectName { get; init; }

    /// <summary>The scopes, as the server writes them (an array of names or a comma-separated string).</summary>
    public JsonElement Scopes { get; init; }

    public DateTimeOffset? CreatedAt { get; init; }

    public DateTimeOffset? RevokedAt { get; init; }

    public DateTimeOffset? LastUsedAt { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; init; }
}

/// <summary>The answer to <c>POST /v1/keys</c>: the only time the secret is shown.</summary>
public sealed record CreatedKey
{
    public long Id { get; init; }

    public required string Secret { get; init; }

    public string? Prefix { get; init; }

    public string? Project { get; init; }

    public IReadOnlyList<string> Scopes { get; init; } = [];
}

/// <summary>The body of <c>POST /v1/keys</c>.</summary>
public sealed record CreateKeyRequest(string Name, string? Project, IReadOnlyList<string> Scopes);

/// <summary>Who the key in use belongs to: <c>GET /v1/whoami</c>.</summary>
public sealed record WhoAmI
{
    public string? Project { get; init; }

    public IReadOnlyList<string> Scopes { get; init; } = [];

    public string? KeyPrefix { get; init; }
}

/// <summary>The parameters of <c>GET /v1/stats</c>; null leaves a parameter to the server's default.</summary>
public sealed record StatsRequest
{
    public string? Filter { get; init; }

    public IReadOnlyList<string> GroupBy { get; init; } = [];

    public string? Interval { get; init; }

    public string? From { get; init; }

    public string? To { get; init; }

    public bool ComparePrevious { get; init; }
}
