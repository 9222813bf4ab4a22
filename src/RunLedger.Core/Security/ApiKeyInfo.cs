namespace RunLedger.Core.Security;

/// <summary>A key as stored: never the secret, only its hash and a short prefix to recognise it by.</summary>
public sealed record ApiKeyInfo
{
    public required long Id { get; init; }

    public required long ProjectId { get; init; }

    public required string ProjectName { get; init; }

    public required string Name { get; init; }

    public required string Prefix { get; init; }

    public required KeyScopes Scopes { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? RevokedAt { get; init; }

    public bool IsRevoked => RevokedAt is not null;

    /// <summary>Admin keys may do everything; otherwise the key needs the scope itself.</summary>
    public bool Allows(KeyScopes scope) => !IsRevoked && ((Scopes & KeyScopes.Admin) != 0 || (Scopes & scope) == scope);
}
