using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace RunLedger.Sqlite;

/// <summary>
/// The writer's side of full-text indexing. The index lives in a file of its own, written by
/// <see cref="SqliteSearchIndex"/> on its own thread; the commit path only hands it the texts of
/// new runs (kept from <see cref="Prepare(RunLedger.Core.Ingest.WriteBatch)"/>) after the commit,
/// and marks a run whose text changed in <c>fts_pending</c> in the same commit, so search reads
/// that run from its bodies until the indexer has replaced its old text.
/// </summary>
internal sealed partial class SqliteWriter
{
    /// <summary>Where the writer reports trouble it works around (an unreadable dictionary).</summary>
    internal ILogger Logger { get; set; } = NullLogger.Instance;

    /// <summary>The indexer this writer feeds (set once by the store before the writer starts).</summary>
    internal SqliteSearchIndex? SearchIndex { get; set; }

    /// <summary>Stops the indexer after it indexed what is left (on close). Never throws: closing goes on.</summary>
    public Task StopIndexerAsync() => SearchIndex?.StopAsync() ?? Task.CompletedTask;

    /// <summary>Most UTF-8 bytes of search text held for the indexer (see <see cref="SqliteSearchIndex.MaxPendingBytes"/>).</summary>
    internal long MaxPendingBytes
    {
        get => SearchIndex?.MaxPendingBytes ?? 0;
        set => SearchIndex!.MaxPendingBytes = value;
    }

    /// <summary>UTF-8 bytes of search text held for the indexer (for tests and diagnostics).</summary>
    internal long PendingBytes => SearchIndex?.PendingBytes ?? 0;

    /// <summary>Hands the texts of a committed group's new runs to the indexer and wakes it.</summary>
    private void QueueForIndexing(List<PendingText> texts)
    {
        if (SearchIndex is null)
        {
            texts.Clear();
            return;
        }

        SearchIndex.Queue(texts);
    }

    /// <summary>After an exclusive action: texts kept for the indexer may belong to removed runs.</summary>
    private void AdoptIndexAfterExclusive() => SearchIndex?.ForgetTexts();

    /// <summary>
    /// Marks a run whose search text changed: search reads it from its bodies, not from the index,
    /// until the indexer has replaced its text (see <see cref="SqliteSearchIndex"/>). In the write's
    /// own transaction, so the old text never matches once the change is acknowledged.
    /// </summary>
    private void MarkTextChanged(long seq)
    {
        var cmd = Cmd;
        cmd.MarkPending.Bind(1, seq);
        cmd.MarkPending.ExecuteNonQuery();
    }

    /// <summary>
    /// Removes pending rows the indexer has re-indexed (its index commit is on disk), each only at
    /// the generation it read: a change committed meanwhile keeps its row for the next round.
    /// </summary>
    internal async Task RemovePendingAsync(IReadOnlyList<(long Seq, long Gen)> rows)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            using var transaction = _connection.BeginTransaction(deferred: false);
            using var delete = _connection.CreateCommand();
            delete.Transaction = transaction;
            delete.CommandText = "DELETE FROM fts_pending WHERE seq = @seq AND gen = @gen;";
            var seq = delete.Parameters.Add("@seq", Microsoft.Data.Sqlite.SqliteType.Integer);
            var gen = delete.Parameters.Add("@gen", Microsoft.Data.Sqlite.SqliteType.Integer);
            foreach (var (s, g) in rows)
            {
                seq.Value = s;
                gen.Value = g;
                delete.ExecuteNonQuery();
            }

            transaction.Commit();
        }
        finally
        {
            _gate.Release();
        }
    }
}
