using System.Globalization;

namespace RunLedger.Sqlite;

/// <summary>Settings of the embedded SQLite store.</summary>
public sealed class SqliteStoreOptions
{
    public const string Section = "RunLedger:Sqlite";

    /// <summary>The database file. Relative paths are under the data directory.</summary>
    public string Path { get; set; } = "runledger.db";

    /// <summary>
    /// <c>FULL</c> (default): every acknowledged commit survives a power cut. <c>NORMAL</c>: a
    /// commit survives a process crash but the last ones may be lost on power loss.
    /// </summary>
    public string Synchronous { get; set; } = "FULL";

    /// <summary>Page cache of the writer connection, in MiB.</summary>
    public int CacheSizeMb { get; set; } = 64;

    /// <summary>How long a connection waits for a lock held by another process, in milliseconds.</summary>
    public int BusyTimeoutMs { get; set; } = 5000;

    /// <summary>
    /// WAL pages after which a commit copies the WAL back into the database (SQLite's
    /// <c>wal_autocheckpoint</c>). Default 10,000 pages (about 40 MiB), ten times SQLite's: the
    /// same index pages change in every commit, and a longer WAL copies each of them once per
    /// checkpoint instead of once per 1,000 pages.
    /// </summary>
    public int WalAutoCheckpointPages { get; set; } = 10_000;

    /// <summary>Most characters of input + output text fed to the full-text index per run.</summary>
    public int MaxIndexedChars { get; set; } = 64 * 1024;

    /// <summary>
    /// True (default): the full-text index keeps word positions, so a phrase of several words is
    /// answered by the index alone. False: it keeps none (FTS5 <c>detail=none</c>): the index file
    /// is about a quarter of the size, but a phrase of several words reads the bodies of every run
    /// holding all its words (slow when the words are common and rarely adjacent). Changing it
    /// empties the index file at start-up and rebuilds it in the background; search reads run
    /// bodies until then, so its results stay exact.
    /// </summary>
    public bool FullTextPositions { get; set; } = true;

    /// <summary>
    /// Metadata keys of runs that get an index of their own, comma-separated (for example
    /// <c>repository,persona</c>), so <c>metadata.KEY:value</c> filters read only the matching runs.
    /// Each index costs a little on every write and about 40-50 bytes per run. Not set (null): the
    /// indexes the file already has are kept. Set, even to an empty string: the file gets exactly
    /// these (missing ones are built at start-up, reading every run once; others are dropped).
    /// </summary>
    public string? IndexedMetadataKeys { get; set; }

    /// <summary>The keys of <see cref="IndexedMetadataKeys"/>, or null when it is not set.</summary>
    internal IReadOnlyList<string>? IndexedMetadataKeyList => IndexedMetadataKeys is null ? null : SqliteMetadataIndexes.Parse(IndexedMetadataKeys);

    /// <summary>
    /// False for a tool that only reads the file (a backup, a migration source) while a server may
    /// be writing it: no second full-text indexer runs in that process.
    /// </summary>
    internal bool IndexInBackground { get; set; } = true;

    /// <summary>
    /// How many of the newest runs (by sequence number) a search's first page asks the full-text
    /// index about first; the window grows until the page stands (see
    /// <c>SqliteReader.SearchNewestAsync</c>). Tests make it small to walk every step.
    /// </summary>
    internal long SearchWindowRuns { get; set; } = 4_096;

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(Path))
        {
            yield return $"{Section}:Path must name a file.";
        }

        if (!string.Equals(Synchronous, "FULL", StringComparison.OrdinalIgnoreCase)
            && !string.Equals(Synchronous, "NORMAL", StringComparison.OrdinalIgnoreCase)
            && !string.Equals(Synchronous, "EXTRA", StringComparison.OrdinalIgnoreCase))
        {
            yield return $"{Section}:Synchronous must be FULL, NORMAL or EXTRA (is '{Synchronous}').";
        }

        if (CacheSizeMb < 1)
        {
            yield return $"{Section}:CacheSizeMb must be at least 1.";
        }

        if (WalAutoCheckpointPages < 0)
        {
            yield return $"{Section}:WalAutoCheckpointPages cannot be negative (0 turns automatic checkpoints off).";
        }

        if (BusyTimeoutMs < 0)
        {
            yield return $"{Section}:BusyTimeoutMs cannot be negative.";
        }

        foreach (var key in IndexedMetadataKeyList ?? [])
        {
            if (SqliteMetadataIndexes.Problem(key) is { } problem)
            {
                yield return $"{Section}:IndexedMetadataKeys: the key {problem}.";
            }
        }

        if (IndexedMetadataKeyList is { Count: > 16 } keys)
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"{Section}:IndexedMetadataKeys names {keys.Count} keys; at most 16 can be indexed.");
        }
    }
}
