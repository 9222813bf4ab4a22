using System.Globalization;
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
    /// <summary>
    /// Longest the indexer waits for searches that still read from the WAL when it cuts it back.
    /// Only the indexer waits: searches that start meanwhile read the index file, not the WAL.
    /// </summary>
    private const int WalCutWaitMs = 250;

    /// <summary>Longest wait before trying again after searches kept the WAL busy.</summary>
    private static readonly TimeSpan MaxWalCutBackoff = TimeSpan.FromSeconds(8);

    /// <summary>The index file's page size (read once).</summary>
    private long _pageSize;

    /// <summary>When (<see cref="Environment.TickCount64"/>) the indexer may try to cut the WAL back again after a try that found it busy.</summary>
    private long _nextWalCut;

    private TimeSpan _walCutBackoff;

    /// <summary>
    /// After a chunk's commit: when the WAL file holds more than twice the pages of the checkpoint
    /// interval (so the automatic checkpoint did not get to start it over), copies it into the
    /// index file and truncates it (<c>wal_checkpoint(TRUNCATE)</c>), waiting at most
    /// <see cref="WalCutWaitMs"/> for the searches reading from it. Searches that hold it longer
    /// make the indexer go on and try again a little later (1 s, doubling up to 8 s), so a long
    /// reader costs the indexer a small share of its time, never a stall. Nothing to do when
    /// automatic checkpoints are turned off (<see cref="SqliteStoreOptions.WalAutoCheckpointPages"/> = 0).
    /// </summary>
    private void BoundWal(SqliteConnection index)
    {
        var pages = _options.WalAutoCheckpointPages;
        if (pages == 0 || Environment.TickCount64 < _nextWalCut)
        {
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

        bool busy;
        Execute(index, string.Create(CultureInfo.InvariantCulture, $"PRAGMA busy_timeout={Math.Min(WalCutWaitMs, _options.BusyTimeoutMs)};"));
        try
        {
            // One row: whether it gave up waiting (1), the WAL's frames and the frames copied.
            busy = Scalar(index, null, "PRAGMA wal_checkpoint(TRUNCATE);") != 0;
        }
        finally
        {
            Execute(index, string.Create(CultureInfo.InvariantCulture, $"PRAGMA busy_timeout={_options.BusyTimeoutMs};"));
        }

        if (!busy)
        {
            _walCutBackoff = TimeSpan.Zero;
            return;
        }

        _walCutBackoff = _walCutBackoff == TimeSpan.Zero ? TimeSpan.FromSeconds(1) : TimeSpan.FromTicks(Math.Min(_walCutBackoff.Ticks * 2, MaxWalCutBackoff.Ticks));
        _nextWalCut = Environment.TickCount64 + (long)_walCutBackoff.TotalMilliseconds;
        Logger.LogDebug("The full-text index's WAL ({Bytes} bytes) could not be cut back: searches kept reading from it; tried again in {Delay}.", wal.Length, _walCutBackoff);
    }
}
