namespace RunLedger.Core.Import;

/// <summary>What an import of run documents did.</summary>
/// <param name="Resumed">True when it continued after the last file of an interrupted import.</param>
/// <param name="Written">Runs written.</param>
/// <param name="Skipped">Runs the target already held.</param>
/// <param name="Rejected">The first documents that could not be stored, with why.</param>
/// <param name="RejectedCount">How many documents could not be stored.</param>
public sealed record JsonImportReport(bool Resumed, long Files, long Written, long Skipped, IReadOnlyList<string> Rejected, long RejectedCount, TimeSpan Elapsed);
