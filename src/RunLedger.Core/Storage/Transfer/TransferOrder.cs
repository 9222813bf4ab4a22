namespace RunLedger.Core.Storage.Transfer;

/// <summary>
/// The canonical order of records in a transfer (see <see cref="ILedgerTransfer"/>): projects,
/// keys, then per project (by name) its sessions, runs, rollups and events. Two sources in
/// this order can be compared side by side with constant memory.
/// </summary>
public static class TransferOrder
{
    public static int Compare(TransferRecord a, TransferRecord b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var (groupA, projectA, phaseA) = Section(a);
        var (groupB, projectB, phaseB) = Section(b);
        var c = groupA.CompareTo(groupB);
        if (c == 0)
        {
            c = string.CompareOrdinal(projectA, projectB);
        }

        if (c == 0)
        {
            c = phaseA.CompareTo(phaseB);
        }

        return c != 0 ? c : (a, b) switch
        {
            (ProjectRecord x, ProjectRecord y) => string.CompareOrdinal(x.Name, y.Name),
            (ApiKeyRecord x, ApiKeyRecord y) => x.Id.CompareTo(y.Id),
            (SessionRecord x, SessionRecord y) => string.CompareOrdinal(x.Id, y.Id),
            (RunRecord x, RunRecord y) => CompareIds(x.Id, y.Id),
            (RollupRecord x, RollupRecord y) => CompareRollups(x, y),
            (EventRecord x, EventRecord y) => x.Id.CompareTo(y.Id),
            _ => 0,
        };
    }

    /// <summary>Compares UUIDs by their big-endian bytes, as databases order them.</summary>
    public static int CompareIds(Guid a, Guid b)
    {
        Span<byte> x = stackalloc byte[16];
        Span<byte> y = stackalloc byte[16];
        a.TryWriteBytes(x, bigEndian: true, out _);
        b.TryWriteBytes(y, bigEndian: true, out _);
        return x.SequenceCompareTo(y);
    }

    private static int CompareRollups(RollupRecord x, RollupRecord y)
    {
        var c = x.BucketSize.CompareTo(y.BucketSize);
        c = c != 0 ? c : x.BucketStart.CompareTo(y.BucketStart);
        c = c != 0 ? c : string.CompareOrdinal(x.Kind, y.Kind);
        c = c != 0 ? c : string.CompareOrdinal(x.Name, y.Name);
        c = c != 0 ? c : string.CompareOrdinal(x.Model, y.Model);
        return c != 0 ? c : string.CompareOrdinal(x.Status, y.Status);
    }

    private static (int Group, string Project, TransferPhase Phase) Section(TransferRecord record) => record switch
    {
        ProjectRecord => (0, string.Empty, TransferPhase.Projects),
        ApiKeyRecord => (1, string.Empty, TransferPhase.ApiKeys),
        SessionRecord s => (2, s.Project, TransferPhase.Sessions),
        RunRecord r => (2, r.Project, TransferPhase.Runs),
        RollupRecord r => (2, r.Project, TransferPhase.Rollups),
        RollupRangeRecord r => (2, r.Project, TransferPhase.Rollups),
        EventRecord e => (2, e.Project, TransferPhase.Events),
        _ => throw new ArgumentOutOfRangeException(nameof(record), record.GetType().Name, "Unknown transfer record."),
    };
}
