namespace RunLedger.Core.Storage.Transfer;

/// <summary>Records in canonical order and the position just after the last of them.</summary>
public sealed record TransferPage(IReadOnlyList<TransferRecord> Records, string Position);
