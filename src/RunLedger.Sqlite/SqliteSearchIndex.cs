using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RunLedger.Core.Payloads;

namespace RunLedger.Sqlite;

/// <summary>
/// The full-text index of a ledger, kept in a database file of its own next to it
/// (<c>&lt;ledger&gt;.fts</c>, see <see cref="PathFor"/>) and written by its own connection on its
/// own thread, so tokenizing and FTS5 segment writes run beside the ledger's commits instead of
/// under its single write lock.
/// <para>
/// The index file holds <c>runs_fts</c> (FTS5, rowid = the run's seq) and <c>fts_progress</c>: the
/// ledger it belongs to (<c>token</c>, equal to the ledger's <c>fts_owner.token</c>), the mark
/// <c>indexed_seq</c> (every run up to it is indexed) and the id of the run at the mark. The ledger
/// holds <c>fts_owner</c> and <c>fts_pending</c>: runs whose text changed after they may have been
/// indexed, written in the same commit as the change.
/// </para>
/// <para>
/// No path deletes runs today. One that does (a retention sweep) must list each deleted run in
/// <c>fts_pending</c> in the delete's commit (the tests delete runs so): the
/// indexer finds no run at that seq, removes its text and its listings with shared lines, and the
/// blocks no run lists any more (<see cref="SqliteSharedText.PruneReleased"/>). A delete must not
/// let a seq be given again (a run's seq is its rowid, and SQLite hands out max + 1): a new run at
/// or below the mark would never be indexed.
/// </para>
/// <para>
/// Search trusts the index only for the runs it covers and only while its token is the ledger's:
/// a run above the mark, or pending, is matched by its stored bodies (<c>SqliteTailSearch</c>), so
/// a run is searchable, with its newest text only, the moment its commit is acknowledged.
/// </para>
/// <para>
/// Crash safety, step by step: the texts and the mark of a chunk commit together in the index
/// file, so a crash before that commit leaves the runs above the old mark (the tail search covers
/// them) and the chunk is redone. Pending rows are removed from the ledger only after the index
/// commit that re-indexed them has reached the disk (that commit is synchronous=FULL), and only at
/// the generation that was read, so a crash between the two commits leaves a pending row that is
/// re-indexed once more (harmless) and an update that arrives meanwhile keeps its row. The index
/// is otherwise committed with synchronous=NORMAL: losing its last commits on a power cut moves the
/// mark back, never forward. An index that is ahead of its ledger (the ledger lost commits, was
/// replaced by an older copy, or its runs were cleared and seqs reused) is recognised at start-up
/// by the run at its mark and rebuilt, and a ledger that was cleared or restored gets a new token,
/// which every search compares, so no stale entry is ever used.
/// </para>
/// </summary>
internal sealed partial class SqliteSearchIndex : IAsyncDisposable
{
    /// <summary>
    /// Layout 1 of the index file (<c>PRAGMA user_version</c>): <c>runs_fts</c> keeps word
    /// positions, so a phrase of several words is one FTS5 phrase query. The default
    /// (<see cref="SqliteStoreOptions.FullTextPositions"/>), and what every earlier version wrote.
    /// </summary>
    internal const int PositionsLayout = 1;

    /// <summary>
    /// Layout 2: <c>runs_fts</c> keeps no word positions (<c>detail=none</c>, about a quarter of the
    /// size): the index names the runs holding every word of a phrase and each is checked against
    /// its bodies. A file of the layout not configured is emptied at start-up and rebuilt.
    /// </summary>
    internal const int NoPositionsLayout = 2;

    /// <summary>
    /// Layout 3: word positions, and long lines that many runs share indexed once (<c>blocks_fts</c>,
    /// see <see cref="SqliteSharedText"/>): what a new index with positions gets. A file of layout
    /// 1 is kept as it is (it answers the same searches; it is only larger), so an upgrade does not
    /// rebuild the index; it gets layout 3 when it is rebuilt for another reason.
    /// </summary>
    internal const int SharedTextLayout = 3;

    /// <summary>The layout of the index file the options ask for.</summary>
    internal static int LayoutFor(SqliteStoreOptions options) => options.FullTextPositions ? SharedTextLayout : NoPositionsLayout;

    /// <summary>Whether a file of layout <paramref name="found"/> serves a store configured for <paramref name="wanted"/> as it is.</summary>
    private static bool Serves(long found, int wanted) => found == wanted || (wanted == SharedTextLayout && found == PositionsLayout);

    /// <summary>Page cache of the index connection, in KiB (8 MiB).</summary>
    private const int IndexCacheKib = 8 * 1024;

    /// <summary>Most runs indexed in one index transaction.</summary>
    private const int ChunkRuns = 2_000;

    /// <summary>Most pending (changed) runs re-indexed in one index transaction.</summary>
    private const int PendingChunk = 1_000;

    /// <summary>
    /// How long the indexer lets commits accumulate before it indexes them: fewer, larger index
    /// transactions and FTS5 segments (so fewer merges). Search covers the wait by scanning the tail.
    /// </summary>
    private static readonly TimeSpan IndexDelay = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest wait between tries while indexing keeps failing.</summary>
    private static readonly TimeSpan MaxIndexBackoff = TimeSpan.FromSeconds(30);

    /// <summary>Most texts held in memory for the indexer; beyond it, the indexer reads bodies back.</summary>
    private const int MaxPendingTexts = 100_000;

    private readonly string _ledgerPath;
    private readonly SqliteStoreOptions _options;
    private readonly PayloadDictionaries _dictionaries;
    private readonly Func<IReadOnlyList<(long Seq, long Gen)>, Task> _removePending;
    private readonly Lock _textsLock = new();
    private readonly Dictionary<long, PendingText> _texts = [];
    private readonly SqliteSharedText _shared = new();

    /// <summary>Whether the warning that another process changed the file's layout was logged (once per process).</summary>
    private bool _layoutChangedLogged;
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    private SqliteConnection? _index;
    private SqliteConnection? _ledger;
    private Task? _loop;
    private long _textBytes;

    /// <summary>
    /// The mark of the last committed chunk (under <see cref="_textsLock"/>): a text for a run at or
    /// below it arrived after the chunk had already indexed the run from its bodies (the writer
    /// queues a group's texts just after its commit), and nothing would ever take it.
    /// </summary>
    private long _passedMark;

    public SqliteSearchIndex(string ledgerPath, SqliteStoreOptions options, PayloadDictionaries dictionaries, Func<IReadOnlyList<(long Seq, long Gen)>, Task> removePending)
    {
        _ledgerPath = ledgerPath;
        _options = options;
        _dictionaries = dictionaries;
        _removePending = removePending;
        IndexPath = PathFor(ledgerPath);
        Layout = LayoutFor(options);
    }

    /// <summary>The index file of the ledger at <paramref name="ledgerPath"/>: the ledger's path + <c>.fts</c>.</summary>
    public static string PathFor(string ledgerPath) => ledgerPath + ".fts";

    public string IndexPath { get; }

    /// <summary>Where the indexer reports damaged bodies, rebuilds and failed chunks.</summary>
    public ILogger Logger { get; set; } = NullLogger.Instance;

    /// <summary>
    /// Most UTF-8 bytes of search text held for the indexer (32 MiB): a backlog of large bodies
    /// must not grow the heap without bound; beyond it, the indexer reads bodies back.
    /// </summary>
    public long MaxPendingBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>UTF-8 bytes of search text held for the indexer (for tests and diagnostics).</summary>
    public long PendingBytes
    {
        get
        {
            lock (_textsLock)
            {
                return _textBytes;
            }
        }
    }

    /// <summary>
    /// Opens the index file (creating it, or replacing one that is not a readable index), and
    /// when <paramref name="owner"/> is set (this process writes the ledger) checks that it belongs
    /// to the ledger as it is now, emptying it otherwise so the indexer rebuilds it.
    /// </summary>
    public async Task OpenAsync(bool owner, CancellationToken cancellationToken)
    {
        if (!owner)
        {
            // A tool that only reads (a backup, a migration source) never creates or changes the
            // file: it reads the server's index, in the layout the server wrote, when there is
            // one; else its readers get an empty index of their own that search never trusts (so
            // it reads the bodies).
            var found = File.Exists(IndexPath) ? await ReadLayoutAsync(cancellationToken).ConfigureAwait(false) : 0;
            _useFile = found is PositionsLayout or NoPositionsLayout or SharedTextLayout;
            Layout = _useFile ? (int)found : LayoutFor(_options);
            return;
        }

        _useFile = true;
        try
        {
            await OpenIndexAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode is 11 /* CORRUPT */ or 26 /* NOTADB */)
        {
            // Derived data: a damaged file is replaced and rebuilt from the stored bodies.
            Logger.LogWarning(ex, "The full-text index {Path} is damaged; it is rebuilt in the background and search reads run bodies until then.", IndexPath);
            await CloseConnectionsAsync().ConfigureAwait(false);
            SqliteConnection.ClearAllPools();
            foreach (var suffix in new[] { "", "-wal", "-shm", "-journal" })
            {
                File.Delete(IndexPath + suffix);
            }

            await OpenIndexAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Native handles of pooled reader connections that have the index attached.</summary>
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<object, object> _attached = [];

    /// <summary>True while readers attach the index file; false: an empty in-memory index (never trusted).</summary>
    private bool _useFile;

    /// <summary>
    /// The layout of <c>runs_fts</c> in the index readers attach, fixed when the store opens: the
    /// configured one, except for a tool that only reads, which follows the file it finds. Run
    /// filters are compiled for it (<c>SqliteFilterCompiler</c>).
    /// </summary>
    public int Layout { get; private set; }

    /// <summary>The layout number of the index file (<c>PRAGMA user_version</c>), 0 when it cannot be read.</summary>
    private async Task<long> ReadLayoutAsync(CancellationToken cancellationToken)
    {
        try
        {
            var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = IndexPath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
            await using (connection.ConfigureAwait(false))
            {
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                return Scalar(connection, null, "PRAGMA user_version;");
            }
        }
        catch (SqliteException)
        {
            return 0;
        }
    }

    private async Task OpenIndexAsync(CancellationToken cancellationToken)
    {
        _index = new SqliteConnection(ConnectionString(IndexPath));
        await _index.OpenAsync(cancellationToken).ConfigureAwait(false);
        // The ledger's checkpoint interval (FTS5 rewrites the same structure pages in every chunk,
        // so a longer WAL copies each once per checkpoint) and a page cache for segment merges.
        Execute(_index,
            $"PRAGMA busy_timeout={_options.BusyTimeoutMs}; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY; " +
            $"PRAGMA wal_autocheckpoint={_options.WalAutoCheckpointPages}; PRAGMA cache_size=-{IndexCacheKib};");
        var layout = LayoutFor(_options);
        var (replaced, actual, oldBlocks) = EnsureSchema(_index, layout);
        Layout = actual;
        if (replaced != 0)
        {
            Logger.LogWarning(
                "The full-text index {Path} has layout {Old}, not the configured {New} (1 or 3: with word positions, 2: without; RunLedger:Sqlite:FullTextPositions); it is rebuilt in the background and search reads run bodies until then.",
                IndexPath, replaced, layout);
        }
        else if (oldBlocks)
        {
            Logger.LogWarning(
                "The full-text index {Path} was written by an earlier version whose shared lines cannot be removed when their runs go; it is rebuilt in the background and search reads run bodies until then.",
                IndexPath);
        }

        _ledger = new SqliteConnection(ConnectionString(_ledgerPath));
        await _ledger.OpenAsync(cancellationToken).ConfigureAwait(false);
        Execute(_ledger, $"PRAGMA busy_timeout={_options.BusyTimeoutMs};");
        VerifyOwner();
    }

    private string ConnectionString(string path) => new SqliteConnectionStringBuilder
    {
        DataSource = path,
        Mode = SqliteOpenMode.ReadWriteCreate,
        Pooling = false,
        DefaultTimeout = Math.Max(1, _options.BusyTimeoutMs / 1000),
    }.ToString();

    /// <summary>
    /// Creates the index tables of <paramref name="layout"/> in a new file; a file of another
    /// layout is emptied first (and compacted, so the space of the old index goes back to the disk).
    /// Runs at start-up before any reader attaches the file, so readers always find
    /// <c>runs_fts</c> in the configured layout (a phrase query on a table without positions is an
    /// FTS5 error). Returns the layout that was replaced (0 when there was none) and the layout
    /// the file has now, and whether it was emptied because its blocks could not be removed.
    /// </summary>
    private static (long Replaced, int Layout, bool OldBlocks) EnsureSchema(SqliteConnection index, int layout)
    {
        long version;
        var oldBlocks = false;
        using (var transaction = index.BeginTransaction(deferred: false))
        {
            version = Scalar(index, transaction, "PRAGMA user_version;");
            if (Serves(version, layout))
            {
                // A blocks_fts made before blocks were pruned (without contentless_delete) cannot
                // lose a row: replaced when it is empty (always but in layout 3), else the file is
                // emptied and rebuilt as a layout change would (its blocks, dead ones included, go).
                var blocks = Text(index, transaction, "SELECT sql FROM sqlite_master WHERE name = 'blocks_fts';");
                if (blocks is not null && !blocks.Contains("contentless_delete", StringComparison.Ordinal))
                {
                    oldBlocks = Scalar(index, transaction, "SELECT EXISTS (SELECT 1 FROM fts_blocks);") == 1;
                    if (!oldBlocks)
                    {
                        Execute(index, transaction, "DROP TABLE blocks_fts;");
                    }
                }

                if (!oldBlocks)
                {
                    // A file of an earlier version lacks the (empty) block tables.
                    Execute(index, transaction, BlockTablesSql("main"));
                    transaction.Commit();
                    return (0, (int)version, false);
                }
            }

            // Its fts_progress goes too: the new, empty index is given to the ledger by VerifyOwner.
            Execute(index, transaction, "DROP TABLE IF EXISTS runs_fts; DROP TABLE IF EXISTS blocks_fts; DROP TABLE IF EXISTS fts_blocks; DROP TABLE IF EXISTS fts_run_blocks; DROP TABLE IF EXISTS fts_progress;");
            Execute(index, transaction, SchemaSql("main", layout) + $"PRAGMA user_version = {layout};");
            transaction.Commit();
        }

        if (version != 0)
        {
            Execute(index, "VACUUM;");
        }

        return (oldBlocks ? 0 : version, layout, oldBlocks);
    }

    /// <summary>The index's tables of <paramref name="layout"/> in schema <paramref name="schema"/>, owned by no ledger (token NULL) and empty.</summary>
    private static string SchemaSql(string schema, int layout) =>
        $"CREATE TABLE {schema}.fts_progress (id INTEGER PRIMARY KEY CHECK (id = 1), token BLOB, indexed_seq INTEGER NOT NULL, indexed_run BLOB); " +
        $"INSERT INTO {schema}.fts_progress (id, token, indexed_seq, indexed_run) VALUES (1, NULL, 0, NULL); " +
        // Without word positions (detail=none) the index says which runs hold a word and the bodies
        // say where (SqliteFilterCompiler checks a phrase of several words against them). Layout 3
        // names its one column "text" rather than "body": searches tell the layouts apart by the
        // table's declaration (FileHasLayoutSql).
        $"CREATE VIRTUAL TABLE {schema}.runs_fts USING fts5({(layout == SharedTextLayout ? "text" : "body")}, content='', contentless_delete=1, {(layout == NoPositionsLayout ? "detail=none, " : "")}tokenize='unicode61 remove_diacritics 2'); " +
        // FTS5 merges segments once 8 (default 4) of the same level exist: with the indexer writing
        // large chunks this cut indexing CPU by 20-35 % and left the index no larger.
        $"INSERT INTO {schema}.runs_fts (runs_fts, rank) VALUES ('automerge', 8); " +
        BlockTablesSql(schema);

    /// <summary>
    /// Shared lines (<see cref="SqliteSharedText"/>): each once, by the hash of its UTF-8 bytes (the
    /// first 16 of SHA-256). In every layout, empty but in layout 3: a search compiled for layout 3
    /// names <c>blocks_fts</c>, and must compile (and then read bodies) when another process has
    /// rebuilt the file in another layout.
    /// </summary>
    internal static string BlockTablesSql(string schema) =>
        $"CREATE TABLE IF NOT EXISTS {schema}.fts_blocks (id INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE); " +
        // contentless_delete: a block no run lists any more is removed (SqliteSharedText.PruneReleased).
        $"CREATE VIRTUAL TABLE IF NOT EXISTS {schema}.blocks_fts USING fts5(body, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2'); " +
        // Which runs hold which block: read by block for a search (a range per block, in
        // proportion to the runs found), by seq when a run's text changes.
        $"CREATE TABLE IF NOT EXISTS {schema}.fts_run_blocks (block INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (block, seq)) WITHOUT ROWID; " +
        $"CREATE INDEX IF NOT EXISTS {schema}.ix_fts_run_blocks_seq ON fts_run_blocks (seq); ";

    /// <summary>
    /// At start-up, before this process writes: an index whose mark names a run the ledger does not
    /// have at that seq (the ledger lost commits, or is an older copy) is ahead of its ledger and
    /// is emptied. Read under the index's write lock, with the ledger read after, so another
    /// process's indexer cannot make a live index look ahead.
    /// </summary>
    private void VerifyOwner()
    {
        var index = _index!;
        var ledger = _ledger!;
        using var transaction = index.BeginTransaction(deferred: false);
        var (token, mark, run) = ReadProgress(index, transaction);
        var ledgerToken = LedgerToken(ledger, null);
        if (token is null || !token.AsSpan().SequenceEqual(ledgerToken))
        {
            // Reset now rather than at the first chunk, so the log says why.
            if (token is not null)
            {
                Logger.LogWarning("The full-text index {Path} belongs to another ledger (or to this one before a restore or clear); it is rebuilt in the background.", IndexPath);
            }

            Reset(index, transaction, ledgerToken);
        }
        else if (mark > 0 && !RunAt(ledger, mark).AsSpan().SequenceEqual(run))
        {
            Logger.LogWarning("The full-text index {Path} covers runs up to seq {Seq}, which this ledger does not hold as indexed; it is rebuilt in the background.", IndexPath, mark);
            Reset(index, transaction, ledgerToken);
        }

        transaction.Commit();
    }

    private static byte[]? RunAt(SqliteConnection ledger, long seq)
    {
        using var command = ledger.CreateCommand();
        command.CommandText = "SELECT id FROM runs WHERE seq = @seq;";
        command.Parameters.AddWithValue("@seq", seq);
        return command.ExecuteScalar() as byte[];
    }

    private static byte[] LedgerToken(SqliteConnection ledger, SqliteTransaction? transaction)
    {
        using var command = ledger.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT token FROM fts_owner WHERE id = 1;";
        return (byte[])command.ExecuteScalar()!;
    }

    private static (byte[]? Token, long Mark, byte[]? Run) ReadProgress(SqliteConnection index, SqliteTransaction transaction)
    {
        using var command = index.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT token, indexed_seq, indexed_run FROM fts_progress WHERE id = 1;";
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.IsDBNull(0) ? null : (byte[])reader.GetValue(0), reader.GetInt64(1), reader.IsDBNull(2) ? null : (byte[])reader.GetValue(2));
    }

    /// <summary>Empties the index and gives it to the ledger with <paramref name="token"/>; the indexer then rebuilds it.</summary>
    private void Reset(SqliteConnection index, SqliteTransaction transaction, byte[] token)
    {
        // The block tables are in every layout (empty but in layout 3).
        Execute(index, transaction,
            "INSERT INTO runs_fts (runs_fts) VALUES ('delete-all'); INSERT INTO blocks_fts (blocks_fts) VALUES ('delete-all'); " +
            "DELETE FROM fts_blocks; DELETE FROM fts_run_blocks;");
        _shared.Reset();

        using var command = index.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "UPDATE fts_progress SET token = @token, indexed_seq = 0, indexed_run = NULL WHERE id = 1;";
        command.Parameters.AddWithValue("@token", token);
        command.ExecuteNonQuery();
    }

    public void Start()
    {
        if (_loop is not null || _ledger is null)
        {
            return;
        }

        // A thread of its own: a chunk keeps it busy in SQLite for tens of milliseconds, which on a
        // thread-pool thread would hold back the request handlers beside the writer. Whoever awaits
        // the close continues on the thread pool, not on this thread as it ends (the caller's code
        // would otherwise run on a thread named as the indexer).
        _loop = Task.Factory.StartNew(Loop, CancellationToken.None, TaskCreationOptions.LongRunning | TaskCreationOptions.RunContinuationsAsynchronously, TaskScheduler.Default);

        // Runs committed before a crash or stop may be waiting.
        _signal.Writer.TryWrite(true);
    }

    /// <summary>Hands the texts of a committed group's new runs to the indexer and wakes it.</summary>
    public void Queue(List<PendingText> texts)
    {
        if (_loop is null)
        {
            texts.Clear();
            return;
        }

        lock (_textsLock)
        {
            foreach (var text in texts)
            {
                if (text.Seq <= _passedMark)
                {
                    continue;
                }

                if (_texts.Count >= MaxPendingTexts || _textBytes + text.Text.Length > MaxPendingBytes)
                {
                    break;
                }

                if (_texts.Remove(text.Seq, out var old))
                {
                    _textBytes -= old.Text.Length;
                }

                _texts[text.Seq] = text;
                _textBytes += text.Text.Length;
            }
        }

        texts.Clear();
        _signal.Writer.TryWrite(true);
    }

    /// <summary>After an exclusive action (an import, a clear): forgets texts that may belong to removed runs and wakes the indexer.</summary>
    public void ForgetTexts()
    {
        lock (_textsLock)
        {
            _texts.Clear();
            _textBytes = 0;
            _passedMark = 0;
        }

        _signal.Writer.TryWrite(true);
    }

    /// <summary>Indexes what is left and stops the loop (on close). Never throws: closing goes on.</summary>
    public async Task StopAsync()
    {
        _signal.Writer.TryComplete();
        if (_loop is not null)
        {
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Logger.LogError(ex, "The full-text indexer stopped with an error; the runs it did not reach are indexed at the next start.");
            }
        }
    }

    private void Loop()
    {
        var backoff = TimeSpan.Zero;
        Thread.CurrentThread.Name = "RunLedger full-text indexer";
        while (_signal.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            _signal.Reader.TryRead(out _);
            var failed = false;
            if (!_signal.Reader.Completion.IsCompleted)
            {
                // Closing cuts the wait short.
                Task.WaitAny(Task.Delay(backoff > IndexDelay ? backoff : IndexDelay), _signal.Reader.Completion);
            }

            try
            {
                while (IndexChunk())
                {
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The index file is in trouble (disk full, I/O error) or a bug: search still finds
                // these runs by reading their bodies, and the loop tries again.
                Logger.LogWarning(ex, "Full-text indexing failed; search reads the runs it did not reach from their bodies until it succeeds.");
                failed = true;
            }

            if (failed)
            {
                // Keep going: try again later even if no commit comes, waiting longer each time.
                backoff = backoff == TimeSpan.Zero ? TimeSpan.FromSeconds(1) : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxIndexBackoff.Ticks));
                _signal.Writer.TryWrite(true);
            }
            else
            {
                backoff = TimeSpan.Zero;
            }
        }

        // Closing: index whatever the last groups committed (what fails is indexed at the next start).
        while (IndexChunk())
        {
        }
    }

    /// <summary>
    /// One index transaction: runs above the mark (up to a chunk), then pending runs at or below
    /// the new mark re-indexed from their stored bodies. True when there may be more.
    /// </summary>
    private bool IndexChunk()
    {
        var index = _index!;
        var ledger = _ledger!;
        List<(long Seq, long Gen)> pending = [];
        int newRuns;

        // Checked before the transaction, as its synchronous level must be set outside one:
        // pending rows that arrive later wait for the next chunk.
        var hasPending = Scalar(ledger, null, "SELECT EXISTS (SELECT 1 FROM fts_pending);") == 1;
        if (hasPending)
        {
            // The pending rows are removed from the ledger once this commit is on disk.
            Execute(index, "PRAGMA synchronous=FULL;");
        }

        try
        {
            newRuns = IndexOneChunk(index, ledger, hasPending, pending);
        }
        catch
        {
            // The chunk rolled back, with any block it made: forget what was learned in it.
            _shared.Reset();
            throw;
        }
        finally
        {
            if (hasPending)
            {
                Execute(index, "PRAGMA synchronous=NORMAL;");
            }
        }

        // Killed here: the index commit holds the new texts and the mark; the pending rows are
        // still in the ledger, so search keeps reading those runs from their bodies and the next
        // indexer re-indexes them once more (delete + insert: the same entry again).
        if (pending.Count > 0)
        {
            _removePending(pending).GetAwaiter().GetResult();
        }

        BoundWal(index);
        return newRuns == ChunkRuns || pending.Count == PendingChunk;
    }

    private int IndexOneChunk(SqliteConnection index, SqliteConnection ledger, bool hasPending, List<(long Seq, long Gen)> pending)
    {
        int newRuns;
        using (var transaction = index.BeginTransaction(deferred: false))
        {
            var (token, mark, _) = ReadProgress(index, transaction);
            _shared.ForgetBlocks();
            if (Scalar(index, transaction, "PRAGMA user_version;") != Layout)
            {
                // Another process rebuilt the file in its own layout since this one opened it
                // (searches here then read bodies): this process's rows would not fit it.
                if (!_layoutChangedLogged)
                {
                    _layoutChangedLogged = true;
                    Logger.LogWarning("The full-text index {Path} was rebuilt in another layout by another process; this process stops indexing and its searches read run bodies until it is restarted (RunLedger:Sqlite:FullTextPositions must be the same in every process).", IndexPath);
                }

                return 0;
            }

            // One snapshot of the ledger for the whole chunk, taken after the index is locked.
            using var read = ledger.BeginTransaction(deferred: true);
            var ledgerToken = LedgerToken(ledger, read);
            if (token is null || !token.AsSpan().SequenceEqual(ledgerToken))
            {
                // The ledger was cleared (or restored) since: its seqs may be reused.
                Reset(index, transaction, ledgerToken);
                mark = 0;
            }

            using var insert = new RowWriter(this, index);
            using var bodies = new BodyReader(ledger, read);
            var rows = ReadRuns(ledger, read, "SELECT seq, id, input_payload, output_payload, error_message FROM runs WHERE seq > @mark ORDER BY seq LIMIT @n;", mark, ChunkRuns);
            foreach (var row in rows)
            {
                if (TakeText(row.Seq, out var text) && text.Id == row.Id)
                {
                    insert.Write(row.Seq, text.Text);
                    continue;
                }

                InsertFromBodies(insert, bodies, row);
            }

            newRuns = rows.Count;
            byte[]? markRun = null;
            if (rows.Count > 0)
            {
                mark = rows[^1].Seq;
                markRun = rows[^1].IdBytes;
            }

            // Changed runs the index covers: their old text goes, their stored text comes in.
            var changed = !hasPending ? [] : ReadRuns(
                ledger,
                read,
                "SELECT p.seq, r.id, r.input_payload, r.output_payload, r.error_message, p.gen FROM fts_pending p LEFT JOIN runs r ON r.seq = p.seq " +
                "WHERE p.seq <= @mark ORDER BY p.seq LIMIT @n;",
                mark,
                PendingChunk);
            if (changed.Count > 0)
            {
                foreach (var row in changed)
                {
                    // A run gone from the ledger (deleted) is only removed.
                    insert.Remove(row.Seq);
                    if (row.IdBytes is not null)
                    {
                        InsertFromBodies(insert, bodies, row);
                    }

                    pending.Add((row.Seq, row.Gen));
                }

                // Blocks whose last run went: removed in this commit, so the index stays in
                // proportion to the runs it covers.
                insert.PruneBlocks();
            }

            if (rows.Count > 0)
            {
                using var progress = index.CreateCommand();
                progress.Transaction = transaction;
                progress.CommandText = "UPDATE fts_progress SET indexed_seq = @seq, indexed_run = @run WHERE id = 1;";
                progress.Parameters.AddWithValue("@seq", mark);
                progress.Parameters.AddWithValue("@run", (object?)markRun ?? DBNull.Value);
                progress.ExecuteNonQuery();
            }

            // Killed before this commit: nothing of the chunk is in the index file (texts and
            // mark roll back together); search reads these runs from their bodies, and the next
            // chunk starts from the old mark.
            read.Commit();
            transaction.Commit();
            ForgetTextsUpTo(mark);
        }

        return newRuns;
    }

    private static List<IndexRow> ReadRuns(SqliteConnection ledger, SqliteTransaction read, string sql, long mark, int limit)
    {
        var rows = new List<IndexRow>();
        using var select = ledger.CreateCommand();
        select.Transaction = read;
        select.CommandText = sql;
        select.Parameters.AddWithValue("@mark", mark);
        select.Parameters.AddWithValue("@n", limit);
        using var reader = select.ExecuteReader();
        var hasGen = reader.FieldCount > 5;
        while (reader.Read())
        {
            rows.Add(new IndexRow(
                reader.GetInt64(0),
                reader.IsDBNull(1) ? null : (byte[])reader.GetValue(1),
                reader.IsDBNull(2) ? null : reader.GetInt64(2),
                reader.IsDBNull(3) ? null : reader.GetInt64(3),
                reader.IsDBNull(4) ? null : reader.GetString(4),
                hasGen ? reader.GetInt64(5) : 0));
        }

        return rows;
    }

    private void InsertFromBodies(RowWriter insert, BodyReader bodies, IndexRow row)
    {
        var text = PayloadText.RunSearchText(
            LoadTextOrSkip(bodies, row.Seq, row.Input),
            LoadTextOrSkip(bodies, row.Seq, row.Output),
            row.Error,
            _options.MaxIndexedChars);
        insert.Write(row.Seq, text);
    }

    /// <summary>Adds and removes runs' texts in <c>runs_fts</c> in the index's layout, inside the chunk's transaction.</summary>
    private sealed class RowWriter : IDisposable
    {
        private readonly SqliteSearchIndex _owner;
        private readonly SqliteConnection _index;
        private readonly RawStatement _insert;
        private readonly SqliteSharedText.Statements? _blocks;
        private RawStatement? _delete;

        public RowWriter(SqliteSearchIndex owner, SqliteConnection index)
        {
            _owner = owner;
            _index = index;
            if (owner.Layout == SharedTextLayout)
            {
                _insert = new RawStatement(index, "INSERT INTO runs_fts (rowid, text) VALUES (?1, ?2);");
                _blocks = new SqliteSharedText.Statements(index);
            }
            else
            {
                _insert = new RawStatement(index, "INSERT INTO runs_fts (rowid, body) VALUES (?1, ?2);");
            }
        }

        public void Write(long seq, string text)
        {
            if (text.Length == 0)
            {
                return;
            }

            if (_blocks is null)
            {
                _insert.Bind(1, seq);
                _insert.Bind(2, text);
                _insert.ExecuteNonQuery();
                return;
            }

            Write(seq, System.Text.Encoding.UTF8.GetBytes(text));
        }

        public void Write(long seq, ReadOnlySpan<byte> utf8)
        {
            if (utf8.Length == 0)
            {
                return;
            }

            _insert.Bind(1, seq);
            if (_blocks is null)
            {
                _insert.BindUtf8(2, utf8);
            }
            else
            {
                var (own, blocks) = _owner._shared.Split(_blocks, seq, utf8);
                _insert.BindUtf8(2, own.Span);
                foreach (var block in blocks)
                {
                    _blocks.Hold.Bind(1, block);
                    _blocks.Hold.Bind(2, seq);
                    _blocks.Hold.ExecuteNonQuery();
                }
            }

            _insert.ExecuteNonQuery();
        }

        /// <summary>Removes a run's text (and in layout 3 its listings with the blocks it held; see <see cref="PruneBlocks"/>).</summary>
        public void Remove(long seq)
        {
            _delete ??= new RawStatement(_index, "DELETE FROM runs_fts WHERE rowid = ?1;");
            _delete.Bind(1, seq);
            _delete.ExecuteNonQuery();
            if (_blocks is not null)
            {
                _owner._shared.Release(_blocks, seq);
            }
        }

        /// <summary>Removes the blocks that no run lists any more since <see cref="Remove"/> released them; how many went.</summary>
        public int PruneBlocks() => _blocks is null ? 0 : _owner._shared.PruneReleased(_blocks);

        public void Dispose()
        {
            _insert.Dispose();
            _delete?.Dispose();
            _blocks?.Dispose();
        }
    }

    /// <summary>
    /// A stored body's text for the index, or null when it cannot be decoded (bit rot, an encoding
    /// this version does not know): the run is indexed with the text it still has (its other body
    /// and its error message), as the tail search matches it, instead of holding up the index.
    /// </summary>
    private string? LoadTextOrSkip(BodyReader bodies, long seq, long? payload)
    {
        if (payload is null)
        {
            return null;
        }

        bodies.Id.Value = payload;
        using var reader = bodies.Select.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        try
        {
            return PayloadCodec.Decode((PayloadEncoding)reader.GetInt32(0), (byte[])reader.GetValue(1), _dictionaries);
        }
        catch (InvalidDataException ex)
        {
            Logger.LogWarning(ex, "Run seq {Seq}: a stored body cannot be decoded and is left out of the full-text index.", seq);
            return null;
        }
    }

    /// <summary>Drops the texts of runs the index now covers and remembers its mark for <see cref="Queue"/>.</summary>
    private void ForgetTextsUpTo(long mark)
    {
        lock (_textsLock)
        {
            _passedMark = mark;
            if (_texts.Count == 0)
            {
                return;
            }

            List<long>? passed = null;
            foreach (var seq in _texts.Keys)
            {
                if (seq <= mark)
                {
                    (passed ??= []).Add(seq);
                }
            }

            foreach (var seq in passed ?? [])
            {
                _texts.Remove(seq, out var text);
                _textBytes -= text.Text.Length;
            }
        }
    }

    private bool TakeText(long seq, out PendingText text)
    {
        lock (_textsLock)
        {
            if (!_texts.Remove(seq, out text))
            {
                return false;
            }

            _textBytes -= text.Text.Length;
            return true;
        }
    }

    /// <summary>
    /// Runs not in the full-text index yet, or changed since, or all of them while the attached
    /// file's layout is not <paramref name="layout"/>, the one searches are compiled for (search
    /// reads them from their bodies): normally the last commit or two; a lag that keeps growing
    /// means indexing fails. On a reader connection (the index attached as <c>fts</c>).
    /// <para>
    /// The mark is read in a statement of its own, so the index file's snapshot is held only for
    /// that, not through a count that reads every run above the mark: seconds while a large
    /// ledger's index is rebuilt, and a poll of the progress (<c>/readyz</c>) would then always
    /// hold a snapshot and keep the index's WAL from starting over (see <see cref="BoundWal"/>).
    /// The count is of the moment, for progress: a chunk indexed between the two reads is
    /// counted once more.
    /// </para>
    /// </summary>
    public static async Task<long> CountUnindexedAsync(SqliteConnection connection, int layout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {MarkSql(layout)};";
        var mark = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long m ? m : long.MaxValue;
        command.CommandText = "SELECT count(*) FROM runs WHERE seq > @mark OR seq IN (SELECT seq FROM fts_pending);";
        command.Parameters.AddWithValue("@mark", mark);
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>
    /// SQL for a reader connection: true when the attached file's <c>runs_fts</c> has
    /// <paramref name="layout"/>, read from its declaration in the file's schema: without positions
    /// it is declared with <c>detail=none</c>, with shared lines with the column <c>text</c>, and
    /// layout 1 with neither. Not from the file's <c>user_version</c>: the table-valued
    /// <c>fts.pragma_user_version</c> reads the main database's. One look at a few rows of the
    /// file's first page, once per statement.
    /// </summary>
    private static string FileHasLayoutSql(int layout) => layout switch
    {
        NoPositionsLayout => "(SELECT sql LIKE '%detail=none%' FROM fts.sqlite_master WHERE name = 'runs_fts')",
        SharedTextLayout => "(SELECT sql LIKE '%fts5(text,%' FROM fts.sqlite_master WHERE name = 'runs_fts')",
        _ => "(SELECT sql NOT LIKE '%detail=%' AND sql NOT LIKE '%fts5(text,%' FROM fts.sqlite_master WHERE name = 'runs_fts')",
    };

    /// <summary>
    /// When the attached index may be trusted, over <c>x</c> (its <c>fts_progress</c>) and
    /// <c>o</c> (the ledger's <c>fts_owner</c>): it belongs to the ledger as it is now, and it has
    /// the layout searches were compiled for. Another process configured otherwise rebuilds the
    /// file in its own layout at its start while this one runs, and no layout answers another's
    /// searches exactly (a phrase query is an error without positions; shared lines are not in the
    /// runs' rows).
    /// </summary>
    private static string TrustedSql(int layout) => $"x.token = o.token AND {FileHasLayoutSql(layout)}";

    private static readonly string[] Marks = [.. Enumerable.Range(0, SharedTextLayout + 1).Select(Mark)];
    private static readonly string[] Valids = [.. Enumerable.Range(0, SharedTextLayout + 1).Select(Valid)];

    /// <summary>
    /// SQL for a reader connection: the mark of the attached index, or 0 when it is not trusted
    /// (see <see cref="TrustedSql"/>): it does not belong to the ledger as it is now (cleared,
    /// restored), or it does not have the layout searches were compiled for. Then no entry of it is
    /// used and every run is matched by its bodies.
    /// </summary>
    public static string MarkSql(int layout) => Marks[layout];

    /// <summary>
    /// SQL for a reader connection: true when the attached index is trusted by searches compiled
    /// for <paramref name="layout"/> (see <see cref="MarkSql"/>).
    /// </summary>
    public static string ValidSql(int layout) => Valids[layout];

    private static string Mark(int layout) =>
        $"(SELECT CASE WHEN {TrustedSql(layout)} THEN x.indexed_seq ELSE 0 END FROM fts.fts_progress x, fts_owner o WHERE x.id = 1 AND o.id = 1)";

    private static string Valid(int layout) =>
        $"(SELECT {TrustedSql(layout)} FROM fts.fts_progress x, fts_owner o WHERE x.id = 1 AND o.id = 1)";

    /// <summary>
    /// Attaches the index file as <c>fts</c> to a reader connection (pooled connections keep it).
    /// The ledger is the connection's main database, so a statement takes the ledger's snapshot
    /// before the index's (SQLite opens read transactions in database order): a search never sees
    /// a pending row gone from the ledger while the index still lacks the text that replaced it.
    /// </summary>
    public void Attach(SqliteConnection connection)
    {
        // A pooled connection keeps what was attached: asked of SQLite once per native handle.
        var handle = connection.Handle!;
        if (_attached.TryGetValue(handle, out _))
        {
            return;
        }

        using var check = connection.CreateCommand();
        check.CommandText = "SELECT count(*) FROM pragma_database_list WHERE name = 'fts';";
        if ((long)check.ExecuteScalar()! > 0)
        {
            _attached.AddOrUpdate(handle, this);
            return;
        }

        using var attach = connection.CreateCommand();
        attach.CommandText = "ATTACH DATABASE @path AS fts;";
        attach.Parameters.AddWithValue("@path", _useFile ? IndexPath : ":memory:");
        attach.ExecuteNonQuery();
        if (!_useFile)
        {
            Execute(connection, SchemaSql("fts", Layout));
        }

        _attached.AddOrUpdate(handle, this);
    }

    private async Task CloseConnectionsAsync()
    {
        if (_index is not null)
        {
            await _index.DisposeAsync().ConfigureAwait(false);
            _index = null;
        }

        if (_ledger is not null)
        {
            await _ledger.DisposeAsync().ConfigureAwait(false);
            _ledger = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await CloseConnectionsAsync().ConfigureAwait(false);
    }

    private static string? Text(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command.ExecuteScalar() as string;
    }

    private static long Scalar(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }

    private static void Execute(SqliteConnection connection, string sql) => Execute(connection, null, sql);

    private static void Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// One statement reading a body by payload row id in the chunk's snapshot, prepared once per
    /// chunk (a rebuild reads two bodies for every run).
    /// </summary>
    private sealed class BodyReader : IDisposable
    {
        public BodyReader(SqliteConnection ledger, SqliteTransaction read)
        {
            Select = ledger.CreateCommand();
            Select.Transaction = read;
            Select.CommandText = "SELECT encoding, data FROM payloads WHERE id = @id;";
            Id = Select.Parameters.Add("@id", SqliteType.Integer);
        }

        public SqliteCommand Select { get; }

        public SqliteParameter Id { get; }

        public void Dispose() => Select.Dispose();
    }

    /// <summary>A run as the indexer reads it from the ledger.</summary>
    private readonly record struct IndexRow(long Seq, byte[]? IdBytes, long? Input, long? Output, string? Error, long Gen)
    {
        public Guid Id => new(IdBytes!, bigEndian: true);
    }
}

/// <summary>A new run's search text in UTF-8, waiting for the indexer.</summary>
internal readonly record struct PendingText(long Seq, Guid Id, byte[] Text);
