namespace RunLedger.Core.Model;

/// <summary>A run with its direct children and its events.</summary>
public sealed record RunDetail(Run Run, IReadOnlyList<Run> Children, IReadOnlyList<LedgerEvent> Events);
