namespace RunLedger.Core.Storage.Transfer;

/// <summary>One difference: which record and what is wrong with it.</summary>
public sealed record TransferDifference(string Kind, string Key, string Problem, Guid? RunId);
