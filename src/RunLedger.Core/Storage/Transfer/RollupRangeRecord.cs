namespace RunLedger.Core.Storage.Transfer;

/// <summary>
/// Not data but a statement about it: the rollup records that follow in the same page are all
/// the rollups the source holds for <see cref="Project"/> with a key after <see cref="After"/>
/// (from the first when null) up to and including <see cref="Through"/> (to the last when
/// null). The target removes its own rows in that range that the source no longer has: a
/// bucket empties when its runs move to another status, and a copy taken from a live source
/// must not keep it.
/// </summary>
public sealed record RollupRangeRecord(string Project, RollupKey? After, RollupKey? Through) : TransferRecord;
