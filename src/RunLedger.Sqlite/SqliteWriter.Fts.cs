using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RunLedger.Core.Payloads;
using RunLedger.Core.Storage;

namespace RunLedger.Sqlite;

/// <summary>
/// Full-text indexing after commit. The commit path only inserts runs; a background loop then adds
/// new runs to <c>runs_fts</c> in large chunks and moves <c>fts_progress.indexed_seq</c> forward in
/// the same transaction. Search also matches the runs above that mark by their bodies (see
/// <c>SqliteTailSearch</c>), so a run is searchable as soon as it is acknowledged. The text of new
/// runs is kept from <see cref="Prepare(RunLedger.Core.Ingest.WriteBatch)"/>; after a restart the
/// indexer reads it back from the stored bodies.
/// </summary>
internal sealed partial class SqliteWriter
{
    /// <summary>Most runs indexed in one transaction, so the writer is never kept waiting long.</summary>
    private const int IndexChunk = 2_000;

    /// <summary>
    /// How long the indexer lets commits accumulate before it indexes them: fewer, larger index
    /// transactions and FTS5 segments (so fewer merges). Search covers the wait by scanning the tail.
    /// </summary>
    private static readonly TimeSpan IndexDelay = TimeSpan.FromMilliseconds(200);

    /// <summary>Most texts held in memory for the indexer; beyond it, the indexer reads bodies back.</summary>
    private const int MaxPendingTexts = 100_000;

    private readonly Dictionary<long, PendingText> _pendingTexts = [];

    /// <summary>UTF-8 bytes in <see cref="_pendingTexts"/>.</summary>
    private long _pendingBytes;

    /// <summary>
    /// Most UTF-8 bytes of search text held for the indexer (32 MiB): a backlog of large bodies
    /// must not grow the heap without bound; beyond it, the indexer reads bodies back.
    /// </summary>
    internal long MaxPendingBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>UTF-8 bytes of search text held for the indexer (for tests and diagnostics).</summary>
    internal long PendingBytes => _pendingBytes;
    private readonly Channel<bool> _indexSignal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    private Task? _indexLoop;

    /// <summary>Where the indexer reports damaged bodies and failed chunks.</summary>
    internal ILogger Logger { get; set; } = NullLogger.Instance;

    /// <summary>Runs with seq up to this are in runs_fts. Read and changed under the writer gate only.</summary>
    private long _indexedSeq;

    private void StartIndexer()
    {
        if (_indexLoop is not null || !_storeOptions.IndexInBackground)
        {
            return;
        }

        using (var command = _connection.CreateCommand())
        {
            command.CommandText = "SELECT indexed_seq FROM fts_progress WHERE id = 1;";
            _indexedSeq = (long)command.ExecuteScalar()!;
        }

        _indexLoop = Task.Run(IndexLoopAsync);

        // Runs committed before a crash or stop may be waiting.
        _indexSignal.Writer.TryWrite(true);
    }

    /// <summary>Indexes what is left and stops the loop (on close). Never throws: closing goes on.</summary>
    public async Task StopIndexerAsync()
    {
        _indexSignal.Writer.TryComplete();
        if (_indexLoop is not null)
        {
            try
            {
                await _indexLoop.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Logger.LogError(ex, "The full-text indexer stopped with an error; the runs it did not reach are indexed at the next start.");
            }
        }
    }

    /// <summary>Longest wait between tries while indexing keeps failing.</summary>
    private static readonly TimeSpan MaxIndexBackoff = TimeSpan.FromSeconds(30);

    /// <summary>Set by a failed chunk; the loop then waits longer before it tries again.</summary>
    private bool _indexFailed;

    private async Task IndexLoopAsync()
    {
        var backoff = TimeSpan.Zero;
        while (await _indexSignal.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            _indexSignal.Reader.TryRead(out _);
            try
            {
                if (!_indexSignal.Reader.Completion.IsCompleted)
                {
                    // Closing cuts the wait short.
                    await Task.WhenAny(Task.Delay(backoff > IndexDelay ? backoff : IndexDelay), _indexSignal.Reader.Completion).ConfigureAwait(false);
                }

                var more = true;
                while (more)
                {
                    await _gate.WaitAsync().ConfigureAwait(false);
                    try
                    {
                        _indexFailed = false;
                        more = IndexChunkOrKeep();
                    }
                    finally
                    {
                        _gate.Release();
                    }
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Logger.LogWarning(ex, "The full-text indexer failed; it tries again.");
                _indexFailed = true;
            }

            if (_indexFailed)
            {
                // Keep going: try again later even if no commit comes, waiting longer each time.
                backoff = backoff == TimeSpan.Zero ? TimeSpan.FromSeconds(1) : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxIndexBackoff.Ticks));
                _indexSignal.Writer.TryWrite(true);
            }
            else
            {
                backoff = TimeSpan.Zero;
            }
        }

        // Closing: index whatever the last groups committed (what fails is indexed at the next start).
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            while (IndexChunkOrKeep())
            {
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>One chunk; true when there may be more. A failure leaves the runs for the next try.</summary>
    private bool IndexChunkOrKeep()
    {
        try
        {
            return IndexChunkNow() == IndexChunk;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The database is in trouble (disk full, I/O error) or a bug: search still finds these
            // runs by scanning them, and the loop tries again.
            Logger.LogWarning(ex, "Full-text indexing of runs after seq {Seq} failed; search reads them from their bodies until it succeeds.", _indexedSeq);
            _indexFailed = true;
            return false;
        }
    }

    /// <summary>
    /// Runs not in the full-text index yet (search reads them from their bodies): normally the
    /// last commit or two; a lag that keeps growing means indexing fails (see the log).
    /// </summary>
    public static async Task<long> CountUnindexedAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM runs WHERE seq > (SELECT indexed_seq FROM fts_progress WHERE id = 1);";
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>Indexes every run above the mark. Caller holds the gate.</summary>
    private void CatchUpIndex()
    {
        if (_commands is null)
        {
            return;
        }

        // Guarded: a failing chunk (disk full, I/O error) must not make admin writes fail too;
        // what is left stays above the mark for the loop.
        while (IndexChunkOrKeep())
        {
        }
    }

    /// <summary>
    /// After an exclusive action. The action moves the mark itself, inside its own transaction,
    /// when it indexes what it writes (an import does so only when nothing was waiting; a clear
    /// resets it): here the writer only forgets texts that may belong to removed runs, takes the
    /// mark as stored and lets the indexer take whatever is still above it.
    /// </summary>
    private void AdoptIndexAfterExclusive()
    {
        if (_commands is null)
        {
            return;
        }

        _pendingTexts.Clear();
        _pendingBytes = 0;
        _indexedSeq = ReadIndexedSeq(null);
        _indexSignal.Writer.TryWrite(true);
    }

    /// <summary>
    /// The mark as stored, read in the current write transaction: another process on the same
    /// file (a backup, a migration source) may have indexed runs and moved it, so a cached copy
    /// could tell an update that an indexed run is not indexed yet (and its new text be lost).
    /// </summary>
    private long IndexedSeqInTransaction()
    {
        _indexedSeq = ReadIndexedSeq(Cmd.UpdateRun.Transaction);
        return _indexedSeq;
    }

    private long ReadIndexedSeq(SqliteTransaction? transaction)
    {
        using var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT indexed_seq FROM fts_progress WHERE id = 1;";
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>Hands the texts of a committed group's new runs to the indexer and wakes it.</summary>
    private void QueueForIndexing(List<PendingText> texts)
    {
        foreach (var text in texts)
        {
            if (_pendingTexts.Count >= MaxPendingTexts || _pendingBytes + text.Text.Length > MaxPendingBytes)
            {
                break;
            }

            if (!_groupStaleTexts.Contains(text.Seq))
            {
                DropPendingText(text.Seq);
                _pendingTexts[text.Seq] = text;
                _pendingBytes += text.Text.Length;
            }
        }

        texts.Clear();
        _indexSignal.Writer.TryWrite(true);
    }

    /// <summary>Indexes up to one chunk of runs above the mark in one transaction; returns how many.</summary>
    private int IndexChunkNow()
    {
        var cmd = Cmd;

        // Until the store's level is back, the next write group must set it again (see
        // EnsureSynchronous): acknowledged commits never run at the index's level.
        _synchronousLowered = true;
        SetSynchronous(IndexSynchronous);
        try
        {
            return IndexChunkInTransaction(cmd);
        }
        finally
        {
            SetSynchronous(_storeOptions.Synchronous);
            _synchronousLowered = false;
        }
    }

    /// <summary>True while PRAGMA synchronous may be at the index's level instead of the store's.</summary>
    private bool _synchronousLowered;

    /// <summary>Test seam: called with each level before it is set.</summary>
    internal Action<string>? OnSetSynchronous { get; set; }

    /// <summary>
    /// Before a write group or admin write (caller holds the gate): when restoring the store's
    /// synchronous level after an index chunk failed, sets it again; if that fails too, the write
    /// fails instead of committing with weaker durability than configured.
    /// </summary>
    private void EnsureSynchronous()
    {
        if (_synchronousLowered)
        {
            SetSynchronous(_storeOptions.Synchronous);
            _synchronousLowered = false;
        }
    }

    /// <summary>
    /// Index commits need not reach the disk on their own: the index is derived data and
    /// indexed_seq moves in the same transaction, so after a power cut the indexer redoes what was
    /// lost (WAL keeps the database consistent). The next durable commit syncs them anyway.
    /// </summary>
    private const string IndexSynchronous = "NORMAL";

    private void SetSynchronous(string level)
    {
        OnSetSynchronous?.Invoke(level);
        using var pragma = _connection.CreateCommand();
        pragma.CommandText = "PRAGMA synchronous=" + level.ToUpperInvariant() + ";";
        pragma.ExecuteNonQuery();
    }

    private int IndexChunkInTransaction(Commands cmd)
    {
        using var transaction = _connection.BeginTransaction(deferred: false);
        cmd.Bind(transaction);
        var rows = new List<(long Seq, Guid Id, long? Input, long? Output, string? Error)>();
        using (var select = _connection.CreateCommand())
        {
            select.Transaction = transaction;
            select.CommandText =
                "SELECT seq, id, input_payload, output_payload, error_message FROM runs " +
                "WHERE seq > (SELECT indexed_seq FROM fts_progress WHERE id = 1) ORDER BY seq LIMIT @n;";
            select.Parameters.AddWithValue("@n", IndexChunk);
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                rows.Add((
                    reader.GetInt64(0),
                    new Guid((byte[])reader.GetValue(1), bigEndian: true),
                    reader.IsDBNull(2) ? null : reader.GetInt64(2),
                    reader.IsDBNull(3) ? null : reader.GetInt64(3),
                    reader.IsDBNull(4) ? null : reader.GetString(4)));
            }
        }

        if (rows.Count == 0)
        {
            transaction.Commit();
            return 0;
        }

        foreach (var (seq, id, input, output, error) in rows)
        {
            if (TakePendingText(seq, out var pending) && pending.Id == id)
            {
                if (pending.Text.Length > 0)
                {
                    cmd.FtsInsert.Bind(1, seq);
                    cmd.FtsInsert.BindUtf8(2, pending.Text);
                    cmd.FtsInsert.ExecuteNonQuery();
                }

                continue;
            }

            var text = PayloadText.RunSearchText(LoadPayloadTextOrSkip(seq, input), LoadPayloadTextOrSkip(seq, output), error, _storeOptions.MaxIndexedChars);
            if (text.Length > 0)
            {
                cmd.FtsInsert.Bind(1, seq);
                cmd.FtsInsert.Bind(2, text);
                cmd.FtsInsert.ExecuteNonQuery();
            }
        }

        var last = rows[^1].Seq;
        using (var progress = _connection.CreateCommand())
        {
            progress.Transaction = transaction;
            progress.CommandText = "UPDATE fts_progress SET indexed_seq = @seq WHERE id = 1;";
            progress.Parameters.AddWithValue("@seq", last);
            progress.ExecuteNonQuery();
        }

        transaction.Commit();
        _indexedSeq = last;
        return rows.Count;
    }

    /// <summary>
    /// A stored body's text for the index, or null when it cannot be decoded (bit rot, an encoding
    /// this version does not know): the run is indexed with the text it still has (its other body
    /// and its error message), as the tail search matches it, instead of holding up the index.
    /// </summary>
    private string? LoadPayloadTextOrSkip(long seq, long? payload)
    {
        try
        {
            return LoadPayloadText(payload);
        }
        catch (InvalidDataException ex)
        {
            Logger.LogWarning(ex, "Run seq {Seq}: a stored body cannot be decoded and is left out of the full-text index.", seq);
            return null;
        }
    }

    /// <summary>
    /// The text a sent body is searched by: what is stored. A body over the size limit is stored as
    /// a truncation marker and searched by the marker's head (as the tail search, the indexer's
    /// read-back and an import do), so the index can always be rebuilt identically from the
    /// stored bodies and a word past the head is never found on one day and missed the next.
    /// A prepared batch's runs no longer carry the sent text: then it is decoded from the body.
    /// </summary>
    private string? StoredText(string? sent, EncodedPayload? encoded) =>
        encoded is not null && (encoded.Truncated || sent is null) ? PayloadCodec.Decode(encoded.Encoding, encoded.Data, _dictionaries) : sent;

    private bool TakePendingText(long seq, out PendingText pending)
    {
        if (!_pendingTexts.Remove(seq, out pending))
        {
            return false;
        }

        _pendingBytes -= pending.Text.Length;
        return true;
    }

    /// <summary>Forgets a queued text (its run got new bodies, or a newer text replaces it).</summary>
    private void DropPendingText(long seq) => TakePendingText(seq, out _);

    /// <summary>A new run's search text in UTF-8, waiting for the indexer.</summary>
    private readonly record struct PendingText(long Seq, Guid Id, byte[] Text);
}
