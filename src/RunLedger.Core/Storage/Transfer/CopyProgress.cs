namespace RunLedger.Core.Storage.Transfer;

/// <summary>How far a copy is: records read so far (including those before a resume point when known) and the total.</summary>
public sealed record CopyProgress(long Done, long? Total, long Written, long Skipped);
