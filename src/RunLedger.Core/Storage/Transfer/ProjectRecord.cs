namespace RunLedger.Core.Storage.Transfer;

/// <summary>A project (the tenant), identified by its name.</summary>
public sealed record ProjectRecord(string Name, long CreatedAt) : TransferRecord;
