namespace RunLedger.Core.Storage.Transfer;

/// <summary>
/// How far an import from one source got: the position of the last record written
/// (<see cref="TransferPosition"/> text) and whether the whole source was copied.
/// </summary>
public sealed record TransferCheckpoint(string SourceId, string Position, bool Completed);
