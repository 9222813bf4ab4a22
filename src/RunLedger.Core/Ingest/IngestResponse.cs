namespace RunLedger.Core.Ingest;

/// <summary>The answer to an ingest request, sent only after the accepted items are durably committed.</summary>
public sealed record IngestResponse(int Accepted, IReadOnlyList<RejectedItem> Rejected);

/// <summary>One item that was not stored, and why.</summary>
public sealed record RejectedItem(string Kind, int Index, string? Id, string Error);
