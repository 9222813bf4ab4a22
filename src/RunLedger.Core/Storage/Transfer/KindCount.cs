namespace RunLedger.Core.Storage.Transfer;

/// <summary>How many records of one kind each side holds.</summary>
public sealed record KindCount(string Kind, long Source, long Target);
