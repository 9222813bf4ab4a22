namespace RunLedger.Core.Storage.Transfer;

/// <summary>
/// Moves a store's whole content to another store verbatim. The export side reads pages in a
/// stable order that every store shares, so a copy can resume where it stopped and two stores
/// can be compared side by side; the import side writes records as they are (no derived events,
/// original ids and times kept) and records how far it got in the same transaction.
/// </summary>
/// <remarks>
/// Orders: projects by name; keys by id; then per project (by name) its sessions by id in
/// ordinal (byte) order, its runs by id in the big-endian byte order of the UUID (time order for
/// UUIDv7), its rollups by bucket size, bucket start, kind, name, model and status (text in
/// ordinal order), and its events by id.
/// </remarks>
public interface ILedgerTransfer
{
    /// <summary>A stable id of this database, made when its schema was created.</summary>
    Task<string> GetStoreIdAsync(CancellationToken cancellationToken);

    /// <summary>How many records of each kind the store holds.</summary>
    Task<TransferCounts> CountAsync(CancellationToken cancellationToken);

    Task<IReadOnlyList<ProjectRecord>> ExportProjectsAsync(CancellationToken cancellationToken);

    Task<IReadOnlyList<ApiKeyRecord>> ExportApiKeysAsync(CancellationToken cancellationToken);

    /// <summary>Sessions of <paramref name="project"/> with an id after <paramref name="afterId"/> (ordinal).</summary>
    Task<IReadOnlyList<SessionRecord>> ExportSessionsAsync(string project, string? afterId, int limit, CancellationToken cancellationToken);

    /// <summary>Runs of <paramref name="project"/> with an id after <paramref name="afterId"/>, bodies included.</summary>
    Task<IReadOnlyList<RunRecord>> ExportRunsAsync(string project, Guid? afterId, int limit, CancellationToken cancellationToken);

    /// <summary>Rollup buckets of <paramref name="project"/> after the key of <paramref name="after"/>.</summary>
    Task<IReadOnlyList<RollupRecord>> ExportRollupsAsync(string project, RollupRecord? after, int limit, CancellationToken cancellationToken);

    /// <summary>Events of <paramref name="project"/> with an id greater than <paramref name="afterId"/>.</summary>
    Task<IReadOnlyList<EventRecord>> ExportEventsAsync(string project, long afterId, int limit, CancellationToken cancellationToken);

    /// <summary>How far an import from the store <paramref name="sourceId"/> got, or null when none started.</summary>
    Task<TransferCheckpoint?> ReadCheckpointAsync(string sourceId, CancellationToken cancellationToken);

    /// <summary>
    /// Writes <paramref name="records"/> and <paramref name="checkpoint"/> in one transaction.
    /// Projects match by name and keys by secret hash; a run already there is skipped when its
    /// <c>UpdatedAt</c> is the same and replaced otherwise; an event whose id is there is
    /// skipped; sessions and rollups are replaced by the incoming figures, and a
    /// <see cref="RollupRangeRecord"/> removes the target's rollups in its range that the page
    /// does not hold.
    /// </summary>
    Task<ImportResult> ImportAsync(IReadOnlyList<TransferRecord> records, TransferCheckpoint checkpoint, CancellationToken cancellationToken);

    /// <summary>
    /// Adds the hourly rollup rows up from the 5-minute rows again, replacing any there; returns
    /// how many were written. For a logical backup of format version 1, written before the hourly
    /// tier, which holds none: restore and migrate call it after copying one.
    /// </summary>
    Task<long> RebuildHourlyRollupsAsync(CancellationToken cancellationToken);

    /// <summary>Deletes every project, key, session, run, body, event, rollup and checkpoint.</summary>
    Task ClearAsync(CancellationToken cancellationToken);
}
