using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace RunLedger.Sqlite;

/// <summary>
/// Keeps the index file's write-ahead log bounded. The automatic checkpoint after a commit
/// (<c>wal_autocheckpoint</c>) is passive: it copies the pages no reader still needs into the file,
/// and the WAL starts over from its beginning only when a commit finds it wholly copied and no
/// reader in it. Searches attach the index, and while they come one after another (or a poll of
/// the progress reads the runs above the mark) one of them always holds a snapshot of it: the
/// WAL was then never reused and grew by every page the indexer wrote, past the index's own size
/// during a rebuild (7.3 GB beside a 4.3 GB index at 10M runs).
/// </summary>
internal sealed partial class SqliteSearchIndex
{
    /// <summary>Most chunks the indexer writes before it tries again after searches kept the WAL busy.</summary>
    private const int MaxWalCutSkip = 32;

    /// <summary>The index file's page size (read once).</summary>
    private long _pageSize;

    /// <summary>Chunks still to write before the next try to cut the WAL back, after a try that found it busy.</summary>
    private int _walCutSkip;

    /// <summary>Chunks skipped after the last busy try (doubles while tries keep finding it busy).</summary>
    private int _walCutBackoff;

    /// <summary>
    /// After a chunk's commit: when the WAL file holds more than twice the pages of the checkpoint
    /// interval (so the automatic checkpoint did not get to start it over), copies it into the
    /// index file and truncates it (<c>wal_checkpoint(TRUNCATE)</c>). That waits for the searches
    /// that still read from the WAL, up to <see cref="SqliteStoreOptions.BusyTimeoutMs"/>: during a
    /// rebuild a search reads the bodies of every run not indexed yet in one statement, which is
    /// long, and a shorter wait gave up over and over on a loaded machine. Only the indexer waits:
    /// searches that start meanwhile read the index file, not the WAL, and the ledger's commits
    /// go on. Searches that hold it longer make the indexer go on and try again after a chunk,
    /// then after 2, 4 and up to 32 chunks while they keep it busy (counted in chunks, not time, so
    /// the WAL grows by a known amount between tries). Nothing to do when automatic checkpoints
    /// are turned off (<see cref="SqliteStoreOptions.WalAutoCheckpointPages"/> = 0).
    /// </summary>
    private void BoundWal(SqliteConnection index)
    {
        var pages = _options.WalAutoCheckpointPages;
        if (pages == 0)
        {
            return;
        }

        if (_walCutSkip > 0)
        {
            _walCutSkip--;
            return;
        }

        if (_pageSize == 0)
        {
            _pageSize = Scalar(index, null, "PRAGMA page_size;");
        }

        var wal = new FileInfo(IndexPath + "-wal");
        if (!wal.Exists || wal.Length <= 2L * pages * _pageSize)
        {
            return;
        }

        // One row: whether it gave up waiting (1), the WAL's frames and the frames copied.
        var busy = Scalar(index, null, "PRAGMA wal_checkpoint(TRUNCATE);") != 0;
        if (!busy)
        {
            _walCutBackoff = 0;
            return;
        }

        _walCutBackoff = Math.Min(Math.Max(1, _walCutBackoff * 2), MaxWalCutSkip);
        _walCutSkip = _walCutBackoff;
        Logger.LogDebug("The full-text index's WAL ({Bytes} bytes) could not be cut back: searches kept reading from it; tries again after {Chunks} chunks.", wal.Length, _walCutBackoff);
    }
}
