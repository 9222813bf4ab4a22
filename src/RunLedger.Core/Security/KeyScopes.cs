namespace RunLedger.Core.Security;

/// <summary>What a key may do. Admin implies read and ingest.</summary>
[Flags]
public enum KeyScopes
{
    None = 0,
    Ingest = 1,
    Read = 2,
    Admin = 4,
}
