using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using RunLedger.Core.Model;
using RunLedger.Core.Storage;

namespace RunLedger.Sqlite;

/// <summary>
/// How the SQLite store keeps the events it writes for a run (schema 12): the type and the data
/// packed into one small BLOB in <c>events.data</c>, with <c>events.type</c> left empty. The run's
/// id and name are the row's own columns; the rest of the data is the <see cref="RunEventValues"/>
/// the event was made from, kept exactly, so <see cref="RunMerge.RunEventData"/> makes the same
/// bytes again on every read. A run's row may change later; its events keep what they recorded.
/// <para>
/// Data a client sent is JSON text and its type a non-empty text, always: a BLOB in
/// <c>events.data</c> is this form and nothing else, whatever the type column says.
/// </para>
/// <para>
/// The layout, version 0 (about 25 bytes for a finished step with a parent, instead of about 140
/// for its type and JSON without id and name):
/// <list type="bullet">
/// <item>byte 0: bits 0-2 the status (its index in <see cref="WireNames.Statuses"/>); bit 3 set for
/// <c>run.updated</c>, else the type is the status's own (<see cref="EventTypes.ForStatus"/>);
/// bit 4 set when there is an error message; bits 5-7 the layout version, 0.</item>
/// <item>byte 1: bits 0-2 the kind (its index in <see cref="WireNames.Kinds"/>); bits 3-7 set when
/// the model, parent, duration, cost and total tokens follow, in that order.</item>
/// <item>the model: its UTF-8 length as a varint, then its UTF-8; the parent: 16 bytes, as run
/// ids are stored; duration (µs), cost (nanodollars), total tokens: zigzag varints.</item>
/// <item>the error message: the UTF-8 of all the bytes left.</item>
/// </list>
/// An event whose values do not fit (a kind or status this version does not know, text that is
/// not valid UTF-16) is kept as JSON text with its type, like a client's event.
/// </para>
/// </summary>
internal static class SqliteRunEvents
{
    private const int StatusBits = 0b111;
    private const int UpdatedBit = 1 << 3;
    private const int ErrorBit = 1 << 4;
    private const int VersionBits = 0b1110_0000;
    private const int KindBits = 0b111;
    private const int ModelBit = 1 << 3;
    private const int ParentBit = 1 << 4;
    private const int DurationBit = 1 << 5;
    private const int CostBit = 1 << 6;
    private const int TokensBit = 1 << 7;
    private const int MaxVarint = 10;

    /// <summary>
    /// Appends the packed form of a run event of <paramref name="type"/> made of
    /// <paramref name="values"/> to <paramref name="output"/>; false (nothing appended) when they
    /// do not fit the layout.
    /// </summary>
    public static bool TryPack(string type, in RunEventValues values, ArrayBufferWriter<byte> output)
    {
        var status = IndexOf(WireNames.Statuses, values.Status);
        var kind = IndexOf(WireNames.Kinds, values.Kind);

        // Kinds and statuses past what their bits hold (a version that adds some) stay JSON.
        if (status < 0 || status > StatusBits || kind < 0 || kind > KindBits)
        {
            return false;
        }

        var head = status;
        if (type == EventTypes.RunUpdated)
        {
            head |= UpdatedBit;
        }
        else if (type != EventTypes.ForStatus((RunStatus)status))
        {
            return false;
        }

        var max = 2 + MaxVarint + (values.Model?.Length * 3 ?? 0) + 16 + (3 * MaxVarint) + (values.Error?.Length * 3 ?? 0);
        var span = output.GetSpan(max);
        var at = 2;
        var flags = kind;
        if (values.Model is { } model)
        {
            flags |= ModelBit;
            var bytes = span[(at + MaxVarint)..];
            if (Utf8.FromUtf16(model, bytes, out _, out var length, replaceInvalidSequences: false) != OperationStatus.Done)
            {
                return false;
            }

            at += WriteVarint(span[at..], (ulong)length);
            bytes[..length].CopyTo(span[at..]);
            at += length;
        }

        if (values.ParentId is { } parent)
        {
            flags |= ParentBit;
            parent.TryWriteBytes(span.Slice(at, 16), bigEndian: true, out _);
            at += 16;
        }

        if (values.DurationUs is { } duration)
        {
            flags |= DurationBit;
            at += WriteVarint(span[at..], ZigZag(duration));
        }

        if (values.CostNanos is { } cost)
        {
            flags |= CostBit;
            at += WriteVarint(span[at..], ZigZag(cost));
        }

        if (values.TotalTokens != 0)
        {
            flags |= TokensBit;
            at += WriteVarint(span[at..], ZigZag(values.TotalTokens));
        }

        if (values.Error is { } error)
        {
            head |= ErrorBit;
            if (Utf8.FromUtf16(error, span[at..], out _, out var length, replaceInvalidSequences: false) != OperationStatus.Done)
            {
                return false;
            }

            at += length;
        }

        span[0] = (byte)head;
        span[1] = (byte)flags;
        output.Advance(at);
        return true;
    }

    /// <summary>The type and values a packed run event holds.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a packed run event this version reads.</exception>
    public static (string Type, RunEventValues Values) Unpack(ReadOnlySpan<byte> packed)
    {
        if (packed.Length < 2 || (packed[0] & VersionBits) != 0 || (packed[0] & StatusBits) >= WireNames.Statuses.Count)
        {
            throw Damaged();
        }

        int head = packed[0];
        int flags = packed[1];
        var status = (RunStatus)(head & StatusBits);
        var at = 2;
        string? model = null;
        if ((flags & ModelBit) != 0)
        {
            var length = ReadVarint(packed, ref at);
            if (length > (ulong)(packed.Length - at))
            {
                throw Damaged();
            }

            model = Decode(packed.Slice(at, (int)length));
            at += (int)length;
        }

        Guid? parent = null;
        if ((flags & ParentBit) != 0)
        {
            if (packed.Length - at < 16)
            {
                throw Damaged();
            }

            parent = StorageUnits.ToGuid(packed.Slice(at, 16));
            at += 16;
        }

        long? duration = (flags & DurationBit) != 0 ? UnZigZag(ReadVarint(packed, ref at)) : null;
        long? cost = (flags & CostBit) != 0 ? UnZigZag(ReadVarint(packed, ref at)) : null;
        var tokens = (flags & TokensBit) != 0 ? UnZigZag(ReadVarint(packed, ref at)) : 0;
        string? error = null;
        if ((head & ErrorBit) != 0)
        {
            error = Decode(packed[at..]);
        }
        else if (at != packed.Length)
        {
            throw Damaged();
        }

        var type = (head & UpdatedBit) != 0 ? EventTypes.RunUpdated : EventTypes.ForStatus(status);
        return (type, new RunEventValues(WireNames.Kinds[flags & KindBits], status.ToWire(), model, parent, duration, cost, tokens, error));
    }

    /// <summary>The event's type and its data as the API returns it.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a packed run event this version reads.</exception>
    public static (string Type, string Data) Read(ReadOnlySpan<byte> packed, Guid? runId, string? name)
    {
        var (type, values) = Unpack(packed);
        if (runId is not { } id)
        {
            throw new InvalidDataException("An events row holds a packed run event but no run id.");
        }

        return (type, RunMerge.RunEventData(id, name, values));
    }

    /// <summary>
    /// The type and data of an events row from its <c>type</c> and <c>data</c> columns as read
    /// (<paramref name="data"/> a string, a byte array or <see cref="DBNull"/>).
    /// </summary>
    public static (string Type, string? Data) TypeAndData(string type, object data, Guid? runId, string? name) => data switch
    {
        byte[] packed => Read(packed, runId, name),

        // A run event without its run's id and name (schemas 9 to 11): a process of an older
        // version may still write one into an upgraded ledger beside this one.
        string text => (type, RunEventTail.Restore(text, runId, name)),
        _ => (type, null),
    };

    /// <summary>
    /// The type of the events row <paramref name="alias"/> as SQL (for filters): the type column,
    /// or for a packed run event the type its first byte names.
    /// </summary>
    public static string TypeOf(string alias) =>
        $"(CASE WHEN typeof({alias}.data) = 'blob' THEN (CASE substr(hex(substr({alias}.data, 1, 1)), 2, 1){TypeCases} END) ELSE {alias}.type END)";

    /// <summary>
    /// Whether a type filter's value may match the type of a packed run event: the empty value
    /// (which the type column of a packed row holds), or a value or pattern (<c>*</c> for any
    /// characters, nothing else special) that matches one of the run event types.
    /// </summary>
    public static bool MayNameRunEvents(string value, bool isPattern) =>
        value.Length == 0 || RunEventTypes.Any(type => isPattern ? WildcardMatches(value, type) : string.Equals(value, type, StringComparison.Ordinal));

    /// <summary>The types a packed run event can have.</summary>
    private static readonly string[] RunEventTypes =
        [.. Enumerable.Range(0, WireNames.Statuses.Count).Select(status => EventTypes.ForStatus((RunStatus)status)).Append(EventTypes.RunUpdated).Distinct(StringComparer.Ordinal)];

    /// <summary>Whether <paramref name="text"/> matches <paramref name="pattern"/>, where <c>*</c> stands for any characters (case-sensitive, as GLOB).</summary>
    private static bool WildcardMatches(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        var star = pattern.IndexOf('*');
        if (star < 0)
        {
            return pattern.SequenceEqual(text);
        }

        if (!text.StartsWith(pattern[..star]))
        {
            return false;
        }

        var rest = pattern[(star + 1)..];
        for (var at = star; at <= text.Length; at++)
        {
            if (WildcardMatches(rest, text[at..]))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The WHEN clauses of <see cref="TypeOf"/>: the low hex digit of the first byte is the status and the run.updated bit.</summary>
    private static readonly string TypeCases = string.Concat(Enumerable.Range(0, WireNames.Statuses.Count).Select(status => string.Create(
        CultureInfo.InvariantCulture,
        $" WHEN '{status:X}' THEN '{EventTypes.ForStatus((RunStatus)status)}' WHEN '{status | UpdatedBit:X}' THEN '{EventTypes.RunUpdated}'")));

    /// <summary>
    /// The packed form of a run event stored as JSON (the full data, or the tail of schemas 9 to 11,
    /// see <see cref="RunEventTail"/>), when it reads back as exactly <paramref name="type"/> and the
    /// data the JSON reads as; otherwise null (the JSON is kept).
    /// </summary>
    public static byte[]? Pack(string type, string stored, Guid runId, string? name)
    {
        var full = RunEventTail.Restore(stored, runId, name)!;
        RunEventValues? parsed;
        try
        {
            parsed = ParseFull(full, runId, name);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or OverflowException or ArgumentException)
        {
            return null;
        }

        var packed = new ArrayBufferWriter<byte>(64);
        if (parsed is not { } values || !TryPack(type, values, packed))
        {
            return null;
        }

        var (again, data) = Read(packed.WrittenSpan, runId, name);
        return again == type && data == full ? packed.WrittenSpan.ToArray() : null;
    }

    private static RunEventValues? ParseFull(string full, Guid runId, string? name)
    {
        using var document = JsonDocument.Parse(full);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String || id.GetString() != runId.ToString("D")
            || (root.TryGetProperty("name", out var stored) ? stored.ValueKind != JsonValueKind.String || stored.GetString() != name : name is not null)
            || !root.TryGetProperty("kind", out var kind) || kind.ValueKind != JsonValueKind.String
            || !root.TryGetProperty("status", out var status) || status.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        long? duration = null;
        if (root.TryGetProperty("durationMs", out var ms))
        {
            // Milliseconds as written from whole microseconds; the round trip in FromJson checks it.
            duration = (long)Math.Round(ms.GetDouble() * 1000.0, MidpointRounding.AwayFromZero);
        }

        long? cost = null;
        if (root.TryGetProperty("costUsd", out var usd))
        {
            var nanos = usd.GetDecimal() * 1_000_000_000m;
            if (nanos != decimal.Truncate(nanos) || nanos > long.MaxValue || nanos < long.MinValue)
            {
                return null;
            }

            cost = (long)nanos;
        }

        return new RunEventValues(
            kind.GetString()!,
            status.GetString()!,
            root.TryGetProperty("model", out var model) ? model.GetString() : null,
            root.TryGetProperty("parentId", out var parent) ? parent.GetGuid() : null,
            duration,
            cost,
            root.TryGetProperty("totalTokens", out var tokens) ? tokens.GetInt64() : 0,
            root.TryGetProperty("error", out var error) ? error.GetString() : null);
    }

    private static int IndexOf(IReadOnlyList<string> names, string? name)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    private static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));

    private static long UnZigZag(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);

    private static int WriteVarint(Span<byte> span, ulong value)
    {
        var at = 0;
        while (value >= 0x80)
        {
            span[at++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[at++] = (byte)value;
        return at;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> span, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (at >= span.Length)
            {
                throw Damaged();
            }

            var b = span[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw Damaged();
    }

    private static string Decode(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return Strict.GetString(utf8);
        }
        catch (DecoderFallbackException)
        {
            throw Damaged();
        }
    }

    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static InvalidDataException Damaged() => new("An events row holds packed run-event data this version cannot read (damaged, or written by a newer version).");
}
