namespace RunLedger.Core.Storage.Transfer;

/// <summary>The result of comparing two ledgers record by record.</summary>
public sealed record VerifyReport
{
    /// <summary>Records of each kind (projects, keys, sessions, runs, rollups, events) on each side.</summary>
    public required IReadOnlyList<KindCount> Counts { get; init; }

    /// <summary>Runs present on both sides with the same content checksum.</summary>
    public long RunsIdentical { get; init; }

    /// <summary>How many differences were found (only the first ones are listed).</summary>
    public long DifferenceCount { get; init; }

    public required IReadOnlyList<TransferDifference> Differences { get; init; }

    /// <summary>The first runs whose content, presence or events differ.</summary>
    public required IReadOnlyList<Guid> DifferingRuns { get; init; }

    public bool Identical => DifferenceCount == 0;
}
