namespace RunLedger.Core.Ingest;

/// <summary>The items of a request that passed validation, and the ones that did not.</summary>
public sealed record ValidatedRequest(WriteBatch Batch, IReadOnlyList<RejectedItem> Rejected);
