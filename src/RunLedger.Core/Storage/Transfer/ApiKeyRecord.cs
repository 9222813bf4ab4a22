namespace RunLedger.Core.Storage.Transfer;

/// <summary>An API key as stored: only the hash of its secret, never the secret.</summary>
/// <param name="Id">The key id in the source; kept when the target has no key with that id.</param>
/// <param name="Scopes">The <see cref="Security.KeyScopes"/> flags as a number.</param>
public sealed record ApiKeyRecord(
    long Id,
    string Project,
    string Name,
    string Prefix,
    byte[] SecretHash,
    int Scopes,
    long CreatedAt,
    long? RevokedAt) : TransferRecord;
