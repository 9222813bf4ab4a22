namespace RunLedger.Core.Storage.Transfer;

/// <summary>The last line of a logical backup.</summary>
public sealed record TransferFileEnd(bool End, long Records);
