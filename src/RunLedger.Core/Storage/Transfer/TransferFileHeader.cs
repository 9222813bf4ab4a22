namespace RunLedger.Core.Storage.Transfer;

/// <summary>The first line of a logical backup.</summary>
public sealed record TransferFileHeader(string Format, int Version, string SourceId, DateTimeOffset CreatedAt, TransferCounts? Counts);
