namespace RunLedger.Core.Model;

/// <summary>
/// A session with a page of its top-level runs, newest first; <paramref name="NextCursor"/> asks
/// for the next page (null on the last one). The counts by status cover all of the session's runs.
/// </summary>
public sealed record SessionDetail(Session Session, IReadOnlyList<Run> Runs, IReadOnlyList<StatusCount> RunsByStatus, string? NextCursor = null);

/// <summary>How many runs have a status.</summary>
public sealed record StatusCount(string Status, long Count);
