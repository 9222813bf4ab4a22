using System.Buffers;
using System.Text;
using RunLedger.Core.Model;
using RunLedger.Core.Storage;

namespace RunLedger.Sqlite;

internal sealed partial class SqliteWriter
{
    /// <summary>
    /// Beyond this many cached keys, or texts of this many bytes, the cache starts again empty:
    /// values that differ per run (a trace id in metadata, up to 64 KiB each) would otherwise grow
    /// it without end, and are looked up in the file anyway.
    /// </summary>
    private const int MaxCachedValueKeys = 65_536;

    /// <inheritdoc cref="MaxCachedValueKeys"/>
    private const long MaxCachedValueBytes = 16L << 20;

    /// <summary>
    /// The key of each metadata, parameters and tags text (its UTF-8 bytes) per project, by
    /// <see cref="SqliteRunValues.Index"/>, as committed or written in the current transaction.
    /// Forgotten when another connection commits, after an exclusive action, and whenever the
    /// writer rolls anything back (entries it made may be gone with it).
    /// </summary>
    private readonly Dictionary<long, Dictionary<byte[], long>>[] _valueKeys = [[], [], []];
    private int _cachedValueKeys;
    private long _cachedValueBytes;

    private void ForgetMetadataKeys()
    {
        foreach (var keys in _valueKeys)
        {
            keys.Clear();
        }

        _cachedValueKeys = 0;
        _cachedValueBytes = 0;
    }

    /// <summary>The keys of a row's metadata, parameters and tags (see <see cref="ValueKey(BatchContext, SqliteRunValues, RawJson?, string?)"/>).</summary>
    private RunValueKeys ValueKeys(BatchContext context, RunRow row) => new(
        ValueKey(context, SqliteRunValues.Metadata, row.MetadataJson, row.MetadataJson is null ? row.Metadata : null),
        ValueKey(context, SqliteRunValues.Parameters, row.ParametersJson, row.ParametersJson is null ? row.Parameters : null),
        ValueKey(context, SqliteRunValues.Tags, null, row.Tags));

    /// <summary>
    /// The key of a value in the row's project: from the cache, else found in (or added to) its
    /// table. Null when the run has no such value. The caller counts the run
    /// (<see cref="BatchContext.CountValue"/>) once it is written.
    /// </summary>
    private long? ValueKey(BatchContext context, SqliteRunValues values, RawJson? json, string? text)
    {
        if (json is not null)
        {
            if (json.TryGetUtf8(out var sent))
            {
                return ValueKey(context, values, sent.Span);
            }

            text = json.Text;
        }

        if (text is null)
        {
            return null;
        }

        var rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        try
        {
            var length = Encoding.UTF8.GetBytes(text, rented);
            return ValueKey(context, values, rented.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private long ValueKey(BatchContext context, SqliteRunValues values, ReadOnlySpan<byte> utf8)
    {
        var byProject = _valueKeys[values.Index];
        if (!byProject.TryGetValue(context.ProjectId, out var keys))
        {
            keys = new Dictionary<byte[], long>(SqliteRunMetadata.Utf8Comparer.Instance);
            byProject[context.ProjectId] = keys;
        }

        var lookup = keys.GetAlternateLookup<ReadOnlySpan<byte>>();
        if (lookup.TryGetValue(utf8, out var key))
        {
            return key;
        }

        key = Cmd.Values[values.Index].KeyOf(context.ProjectId, utf8, out var made);
        if (made)
        {
            // Counted at the batch's end even if no run of the batch is written with it, so an
            // entry no run refers to does not stay.
            context.CountValue(values, key, 0);
        }

        if (_cachedValueKeys >= MaxCachedValueKeys || _cachedValueBytes + utf8.Length > MaxCachedValueBytes)
        {
            ForgetMetadataKeys();
            keys = new Dictionary<byte[], long>(SqliteRunMetadata.Utf8Comparer.Instance);
            byProject[context.ProjectId] = keys;
        }

        keys[utf8.ToArray()] = key;
        _cachedValueKeys++;
        _cachedValueBytes += utf8.Length;
        return key;
    }

    /// <summary>Writes a batch's changes of run counts, in its transaction (and savepoint).</summary>
    private void FlushMetadataCounts(BatchContext context)
    {
        var removed = false;
        foreach (var values in SqliteRunValues.All)
        {
            var counts = context.ValueCounts[values.Index];
            if (counts.Count > 0 && Cmd.Values[values.Index].ApplyCounts(counts) is not null)
            {
                removed = true;
            }
        }

        if (removed)
        {
            // An entry no run refers to any more is gone: its key must not be handed out again.
            ForgetMetadataKeys();
        }
    }

    /// <summary>The keys of a run's metadata, parameters and tags (null: it has none).</summary>
    private readonly record struct RunValueKeys(long? Metadata, long? Parameters, long? Tags)
    {
        public long? this[SqliteRunValues values] => values.Index switch
        {
            0 => Metadata,
            1 => Parameters,
            _ => Tags,
        };
    }
}
