namespace RunLedger.Core.Model;

/// <summary>What is known about a stored body: its original size, hash and whether it was truncated.</summary>
public sealed record PayloadInfo(long OriginalBytes, string Sha256, bool Truncated);
