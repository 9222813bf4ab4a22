namespace RunLedger.Core.Storage.Transfer;

/// <summary>What a copy did.</summary>
/// <param name="Resumed">True when it continued an interrupted copy from the target's checkpoint.</param>
/// <param name="Written">Records written (new or changed).</param>
/// <param name="Skipped">Records the target already held unchanged.</param>
public sealed record CopyReport(bool Resumed, long Written, long Skipped, TimeSpan Elapsed);
