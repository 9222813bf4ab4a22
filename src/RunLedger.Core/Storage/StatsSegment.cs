namespace RunLedger.Core.Storage;

/// <summary>
/// One part of a stats window: runs started in [<see cref="FromUs"/>, <see cref="ToUs"/>), read
/// from the rollup rows of <see cref="BucketSize"/> seconds, or from the runs when it is null.
/// </summary>
public readonly record struct StatsSegment(long FromUs, long ToUs, long? BucketSize);
