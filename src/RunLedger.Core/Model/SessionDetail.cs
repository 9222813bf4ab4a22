namespace RunLedger.Core.Model;

/// <summary>A session with its top-level runs, newest first.</summary>
public sealed record SessionDetail(Session Session, IReadOnlyList<Run> Runs, IReadOnlyList<StatusCount> RunsByStatus);

/// <summary>How many runs have a status.</summary>
public sealed record StatusCount(string Status, long Count);
