namespace RunLedger.Core.Model;

/// <summary>What is known about a stored body: its original size, hash and whether it was truncated.</summary>
/// <param name="Unreadable">
/// Set when the stored bytes could not be turned back into JSON (damaged on disk, or written in an
/// encoding this version does not know): says why, and the body itself is left out. Null otherwise.
/// </param>
public sealed record PayloadInfo(long OriginalBytes, string Sha256, bool Truncated, string? Unreadable = null);
