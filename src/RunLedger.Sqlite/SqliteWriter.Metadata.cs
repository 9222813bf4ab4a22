using System.Buffers;
using System.Text;
using RunLedger.Core.Storage;

namespace RunLedger.Sqlite;

internal sealed partial class SqliteWriter
{
    /// <summary>
    /// Beyond this many cached metadata keys the cache starts again empty: metadata that differ per
    /// run (a trace id) would otherwise grow it without end, and are looked up in the file anyway.
    /// </summary>
    private const int MaxCachedMetadataKeys = 65_536;

    /// <summary>
    /// The key of each metadata text (its UTF-8 bytes) per project, as committed or written in the
    /// current transaction. Forgotten when another connection commits, after an exclusive action,
    /// and whenever the writer rolls anything back (entries it made may be gone with it).
    /// </summary>
    private readonly Dictionary<long, Dictionary<byte[], long>> _metadataKeys = [];
    private int _cachedMetadataKeys;

    private void ForgetMetadataKeys()
    {
        _metadataKeys.Clear();
        _cachedMetadataKeys = 0;
    }

    /// <summary>
    /// The key of a row's metadata in its project: from the cache, else found in (or added to)
    /// <c>run_metadata</c>. Null when the run has no metadata. The caller counts the run
    /// (<see cref="BatchContext.CountMetadata"/>) once it is written.
    /// </summary>
    private long? MetadataKey(BatchContext context, RunRow row)
    {
        if (row.MetadataJson is { } json && json.TryGetUtf8(out var sent))
        {
            return MetadataKey(context, sent.Span);
        }

        if (row.Metadata is not { } text)
        {
            return null;
        }

        var rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        try
        {
            var length = Encoding.UTF8.GetBytes(text, rented);
            return MetadataKey(context, rented.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private long MetadataKey(BatchContext context, ReadOnlySpan<byte> utf8)
    {
        if (!_metadataKeys.TryGetValue(context.ProjectId, out var keys))
        {
            keys = new Dictionary<byte[], long>(SqliteRunMetadata.Utf8Comparer.Instance);
            _metadataKeys[context.ProjectId] = keys;
        }

        var lookup = keys.GetAlternateLookup<ReadOnlySpan<byte>>();
        if (lookup.TryGetValue(utf8, out var key))
        {
            return key;
        }

        key = Cmd.Metadata.KeyOf(context.ProjectId, utf8, out var made);
        if (made)
        {
            // Counted at the batch's end even if no run of the batch is written with it, so an
            // entry no run refers to does not stay.
            context.CountMetadata(key, 0);
        }

        if (_cachedMetadataKeys >= MaxCachedMetadataKeys)
        {
            ForgetMetadataKeys();
            keys = new Dictionary<byte[], long>(SqliteRunMetadata.Utf8Comparer.Instance);
            _metadataKeys[context.ProjectId] = keys;
        }

        keys[utf8.ToArray()] = key;
        _cachedMetadataKeys++;
        return key;
    }

    /// <summary>Writes a batch's changes of run counts, in its transaction (and savepoint).</summary>
    private void FlushMetadataCounts(BatchContext context)
    {
        if (context.MetadataCounts.Count == 0)
        {
            return;
        }

        if (Cmd.Metadata.ApplyCounts(context.MetadataCounts) is not null)
        {
            // An entry no run refers to any more is gone: its key must not be handed out again.
            ForgetMetadataKeys();
        }
    }
}
