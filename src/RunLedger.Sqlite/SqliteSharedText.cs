using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using RunLedger.Sqlite.Query;

namespace RunLedger.Sqlite;

/// <summary>
/// Long lines of search text that many runs share (a system prompt, tool definitions, a few-shot
/// block) indexed once instead of once per run: the index layout
/// <see cref="SqliteSearchIndex.SharedTextLayout"/>.
/// <para>
/// A line of at least <see cref="MinBlockBytes"/> bytes seen <see cref="MinSightings"/> times
/// becomes a block: its text goes once into <c>blocks_fts</c> (rowid = the block's id in
/// <c>fts_blocks</c>), and every run holding it from then on is listed with it in
/// <c>fts_run_blocks</c> instead of having the line's words in its <c>runs_fts</c> row. Earlier
/// sightings are indexed in full, as any line. Only lines that many runs share become blocks, so
/// a word names few blocks: a search asks for the runs of every block holding it (one FTS5 term
/// each), and lines repeated only a few times (a retried call's input) would make that list long.
/// </para>
/// <para>
/// In its own row the run keeps the block's first and last <see cref="EdgeWords"/> words with the
/// gap token <see cref="Gap"/> between them, so search stays exact: a phrase of up to
/// <see cref="EdgeWords"/> + 1 words that crosses a block's edge is still in the run's row as it
/// was written, one inside a block is in <c>blocks_fts</c>, and no phrase matches across the gap
/// (the gap is a word of its own, a private-use character: a search for a word holding it is
/// answered from the bodies). A longer phrase
/// that crosses an edge holds <see cref="EdgeWords"/> + 1 words in a row on the run's row, so the
/// filter compiler asks the index for those windows and checks the candidates against the bodies.
/// </para>
/// <para>
/// A block lives as long as a run lists it: when the indexer removes runs' listings (a run's text
/// is replaced, or the run was deleted), it removes in the same transaction the blocks none of
/// their runs lists any more (<see cref="PruneReleased"/>), so a shared line that keeps changing
/// (a prompt that embeds the date) does not pile up blocks as retention deletes its runs, and a
/// line that comes back is counted afresh.
/// </para>
/// <para>
/// Used only on the indexer's thread and inside its index transactions; its caches hold what is
/// committed or about to be in the same transaction, so they are dropped when a chunk fails.
/// </para>
/// </summary>
internal sealed class SqliteSharedText
{
    /// <summary>Lines shorter than this (in UTF-8 bytes) are always indexed with their run.</summary>
    internal const int MinBlockBytes = 512;

    /// <summary>Words of a block kept at each edge in the run's own row.</summary>
    internal const int EdgeWords = 8;

    /// <summary>
    /// Fewest words a line needs to become a block: the words between its edges are what is saved,
    /// and there must be some, or a phrase could cross from one edge to the other.
    /// </summary>
    private const int MinBlockWords = (2 * EdgeWords) + 8;

    /// <summary>
    /// The word between a block's edges in a run's row: a private-use character, which the
    /// tokenizer keeps as a word of its own between spaces, so no phrase matches across it.
    /// </summary>
    internal const string Gap = "\uE000";

    private static ReadOnlySpan<byte> GapUtf8 => " \uE000 "u8;

    /// <summary>
    /// Sightings that make a long line a block. On the benchmark workload a threshold of 2 made
    /// 2,977 blocks of 100,000 runs (most of them a retried call's input, seen twice) and a common
    /// word named 700 of them: one-word searches went from 6 to 90 ms.
    /// </summary>
    internal const int MinSightings = 8;

    /// <summary>Long lines counted but not yet blocks, oldest first; bounded, as most long lines never repeat.</summary>
    internal const int MaxCandidates = 32_768;

    /// <summary>Blocks whose edges are kept in memory; the set is cleared when full.</summary>
    private const int MaxCachedBlocks = 4_096;

    /// <summary>
    /// Long lines counted so far: sightings, and the number of the line's entry in
    /// <see cref="_candidateOrder"/>. A line that became a block leaves this set but not the queue;
    /// if it is pruned and counted again, its old entry must not end the new count when it leaves
    /// the queue, so an entry counts only while the numbers agree.
    /// </summary>
    private readonly Dictionary<UInt128, (int Seen, long Entry, long LastRun)> _candidates = [];
    private readonly Queue<(UInt128 Key, long Entry)> _candidateOrder = new();
    private long _entries;
    private readonly Dictionary<UInt128, Block> _blocks = [];
    private readonly ArrayBufferWriter<byte> _own = new(4096);
    private readonly List<long> _held = [];

    /// <summary>Forgets what it knows of the index (after a failed chunk or when the index is emptied).</summary>
    public void Reset()
    {
        _candidates.Clear();
        _candidateOrder.Clear();
        _blocks.Clear();
    }

    /// <summary>
    /// Forgets the blocks it knows, at the start of each index transaction: another process on the
    /// same ledger may have emptied the index (after a clear or restore) between two of this one's
    /// transactions, and a block id kept from before could then name another line. Looking the few
    /// shared lines up again costs one read each per chunk.
    /// </summary>
    public void ForgetBlocks() => _blocks.Clear();

    /// <summary>
    /// A run's search text as its row holds it: the text with each block line replaced by its
    /// edges (UTF-8, valid until the next call), and the ids of the blocks it holds (the same
    /// list each call, empty when none). Creates the blocks of lines seen often enough, in the
    /// caller's index transaction.
    /// </summary>
    /// <param name="statements">The index transaction's block statements.</param>
    /// <param name="run">The run's sequence number: a line counts one sighting per run in a row, so a
    /// run indexed again (each update of its text) or a line it repeats does not count as more runs.</param>
    /// <param name="text">The run's search text (UTF-8).</param>
    public (ReadOnlyMemory<byte> Own, IReadOnlyList<long> Blocks) Split(Statements statements, long run, ReadOnlySpan<byte> text)
    {
        _own.ResetWrittenCount();
        _held.Clear();
        var rest = text;
        while (true)
        {
            var newline = rest.IndexOf((byte)'\n');
            var line = newline < 0 ? rest : rest[..newline];
            if (line.Length >= MinBlockBytes && FindOrMakeBlock(statements, run, line) is { } block)
            {
                _own.Write(block.Head);
                _own.Write(GapUtf8);
                _own.Write(block.Tail);
                _held.Add(block.Id);
            }
            else
            {
                _own.Write(line);
            }

            if (newline < 0)
            {
                break;
            }

            _own.Write("\n"u8);
            rest = rest[(newline + 1)..];
        }

        return (_own.WrittenMemory, _held);
    }

    private Block? FindOrMakeBlock(Statements statements, long run, ReadOnlySpan<byte> line)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(line, digest);
        var key = BinaryPrimitives.ReadUInt128LittleEndian(digest);
        if (_blocks.TryGetValue(key, out var cached))
        {
            return cached;
        }

        var hash = digest[..16].ToArray();
        statements.Find.Bind(1, hash);
        var id = statements.Find.ExecuteScalarInt64();
        if (id is null)
        {
            var (seen, entry, lastRun) = _candidates.GetValueOrDefault(key);
            if (seen > 0 && lastRun == run)
            {
                return null;
            }

            if (++seen == 1)
            {
                entry = ++_entries;
                _candidateOrder.Enqueue((key, entry));
                if (_candidateOrder.Count > MaxCandidates)
                {
                    var oldest = _candidateOrder.Dequeue();
                    if (_candidates.TryGetValue(oldest.Key, out var counted) && counted.Entry == oldest.Entry)
                    {
                        _candidates.Remove(oldest.Key);
                    }
                }
            }

            _candidates[key] = (seen, entry, run);
            if (seen < MinSightings)
            {
                return null;
            }
        }

        var text = Encoding.UTF8.GetString(line);
        if (SqliteTailSearch.EdgeCuts(text, EdgeWords, MinBlockWords) is not { } cuts)
        {
            // Too few words to save any (one long token): never counted up to a block again.
            if (id is null)
            {
                _candidates[key] = (int.MinValue, _candidates[key].Entry, run);
            }

            return null;
        }

        if (id is null)
        {
            // Seen often enough: the line becomes a block, indexed once from now on.
            statements.Add.Bind(1, hash);
            id = statements.Add.ExecuteInsert();
            statements.IndexBlock.Bind(1, id!.Value);
            statements.IndexBlock.BindUtf8(2, line);
            statements.IndexBlock.ExecuteNonQuery();
            _candidates.Remove(key);
        }

        if (_blocks.Count >= MaxCachedBlocks)
        {
            _blocks.Clear();
        }

        var block = new Block(id.Value, Encoding.UTF8.GetBytes(text[..cuts.HeadEnd]), Encoding.UTF8.GetBytes(text[cuts.TailStart..]));
        _blocks[key] = block;
        return block;
    }

    /// <summary>
    /// Removes a run's listings (its text is being replaced, or the run is gone) and remembers the
    /// blocks it held, for <see cref="PruneReleased"/> at the end of the transaction.
    /// </summary>
    public void Release(Statements statements, long seq)
    {
        var unhold = statements.Unhold;
        unhold.Bind(1, seq);
        while (unhold.Read())
        {
            statements.Released.Add(unhold.Int64(0));
        }
    }

    /// <summary>
    /// Removes the blocks released in this transaction that no run lists any more (a run
    /// re-indexed in the same transaction may hold its block again): their words leave
    /// <c>blocks_fts</c>, their hash <c>fts_blocks</c>, and the line is counted afresh when it
    /// comes back. One seek per released block, in the caller's index transaction. Returns how
    /// many went.
    /// </summary>
    public int PruneReleased(Statements statements)
    {
        var pruned = 0;
        foreach (var id in statements.Released)
        {
            var prune = statements.Prune;
            prune.Bind(1, id);
            if (!prune.Read())
            {
                // Still listed by a run.
                continue;
            }

            var key = BinaryPrimitives.ReadUInt128LittleEndian(prune.Blob(0));
            prune.Reset();
            _blocks.Remove(key);
            statements.Unindex.Bind(1, id);
            statements.Unindex.ExecuteNonQuery();
            pruned++;
        }

        statements.Released.Clear();
        return pruned;
    }

    private sealed record Block(long Id, byte[] Head, byte[] Tail);

    /// <summary>The statements on the index connection, prepared once per index transaction.</summary>
    internal sealed class Statements(SqliteConnection index) : IDisposable
    {
        public RawStatement Find { get; } = new(index, "SELECT id FROM fts_blocks WHERE hash = ?1;");

        public RawStatement Add { get; } = new(index, "INSERT INTO fts_blocks (hash) VALUES (?1);");

        public RawStatement IndexBlock { get; } = new(index, "INSERT INTO blocks_fts (rowid, body) VALUES (?1, ?2);");

        /// <summary>Lists a run (?2) with a block it holds (?1); a line twice in one run is listed once.</summary>
        public RawStatement Hold { get; } = new(index, "INSERT OR IGNORE INTO fts_run_blocks (block, seq) VALUES (?1, ?2);");

        /// <summary>Removes a run's (?1) listings, returning the blocks it held (prepared when a run's text is first replaced).</summary>
        public RawStatement Unhold => _unhold ??= new(index, "DELETE FROM fts_run_blocks WHERE seq = ?1 RETURNING block;");

        /// <summary>
        /// Removes block ?1 from <c>fts_blocks</c> when no run lists it (a seek on the primary key of
        /// <c>fts_run_blocks</c>, which starts with the block), returning its hash.
        /// </summary>
        public RawStatement Prune => _prune ??= new(index,
            "DELETE FROM fts_blocks WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM fts_run_blocks WHERE block = ?1) RETURNING hash;");

        /// <summary>Removes block ?1's words from <c>blocks_fts</c> (declared with <c>contentless_delete=1</c> for it).</summary>
        public RawStatement Unindex => _unindex ??= new(index, "DELETE FROM blocks_fts WHERE rowid = ?1;");

        /// <summary>Blocks whose runs were released in this transaction, for <see cref="PruneReleased"/>.</summary>
        public HashSet<long> Released { get; } = [];

        private RawStatement? _unhold;
        private RawStatement? _prune;
        private RawStatement? _unindex;

        public void Dispose()
        {
            Find.Dispose();
            Add.Dispose();
            IndexBlock.Dispose();
            Hold.Dispose();
            _unhold?.Dispose();
            _prune?.Dispose();
            _unindex?.Dispose();
        }
    }
}
