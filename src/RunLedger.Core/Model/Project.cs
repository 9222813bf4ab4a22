namespace RunLedger.Core.Model;

/// <summary>The tenant: owns keys, runs, sessions and events.</summary>
public sealed record Project(long Id, string Name, DateTimeOffset CreatedAt);
