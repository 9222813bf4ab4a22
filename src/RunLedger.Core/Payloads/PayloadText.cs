using System.Buffers;
using System.Text;
using System.Text.Json;

namespace RunLedger.Core.Payloads;

/// <summary>Extracts the words of a body for a full-text index.</summary>
/// <remarks>
/// Every body of every run passes through here on the write path, so the extraction reads the
/// UTF-8 bytes with <see cref="Utf8JsonReader"/> and copies string values straight into one pooled
/// character buffer: no <see cref="JsonDocument"/>, no string per value, no UTF-16 copy of the body.
/// </remarks>
public static class PayloadText
{
    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        MaxDepth = 100_000,
    };

    private static ReadOnlySpan<byte> TruncationPrefix => "{\"$truncated\":true"u8;

    /// <summary>
    /// The text a store indexes for a run: the search text of its input, then of its output,
    /// then its error message, each cut at <paramref name="maxChars"/>, one per line. Empty when
    /// the run has none of them.
    /// </summary>
    public static string RunSearchText(string? input, string? output, string? errorMessage, int maxChars)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxChars);
        using var text = new TextBuffer();
        if (input is not null)
        {
            AppendBody(text, input, maxChars);
        }

        if (output is not null)
        {
            text.Append('\n');
            AppendBody(text, output, maxChars);
        }

        AppendError(text, errorMessage, maxChars);
        return text.ToString();
    }

    /// <summary>
    /// <see cref="RunSearchText(string?, string?, string?, int)"/> over bodies the caller already
    /// holds as UTF-8 (the bytes that are hashed and stored), so they are not transcoded again.
    /// </summary>
    public static string RunSearchTextUtf8(byte[]? input, byte[]? output, string? errorMessage, int maxChars)
    {
        using var text = RunText(Body(input), Body(output), errorMessage, maxChars);
        return text.ToString();
    }

    /// <summary>
    /// <see cref="RunSearchTextUtf8"/> as UTF-8 bytes, the form the SQLite store binds and keeps
    /// for its indexer, made straight from the buffer instead of through a string.
    /// </summary>
    public static byte[] RunSearchTextAsUtf8(byte[]? input, byte[]? output, string? errorMessage, int maxChars)
    {
        using var text = RunText(Body(input), Body(output), errorMessage, maxChars);
        return text.ToUtf8();
    }

    /// <summary>
    /// <see cref="RunSearchTextAsUtf8(byte[], byte[], string, int)"/> over bodies anywhere in
    /// memory (a pooled buffer, a slice); null means the run has no such body.
    /// </summary>
    public static byte[] RunSearchTextAsUtf8(ReadOnlyMemory<byte>? input, ReadOnlyMemory<byte>? output, string? errorMessage, int maxChars)
    {
        using var text = RunText(input, output, errorMessage, maxChars);
        return text.ToUtf8();
    }

    /// <summary>
    /// A body given as an array, or null when there is none. Spelled out because a null array (or
    /// a bare <c>null</c> beside a memory in a conditional) converts to an empty memory, which is
    /// a body, not to a null one.
    /// </summary>
    private static ReadOnlyMemory<byte>? Body(byte[]? utf8) => utf8 is null ? default(ReadOnlyMemory<byte>?) : new ReadOnlyMemory<byte>(utf8);

    private static TextBuffer RunText(ReadOnlyMemory<byte>? input, ReadOnlyMemory<byte>? output, string? errorMessage, int maxChars)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxChars);
        var text = new TextBuffer();
        if (input is { } inputUtf8)
        {
            AppendBody(text, inputUtf8.Span, null, maxChars);
        }

        if (output is { } outputUtf8)
        {
            text.Append('\n');
            AppendBody(text, outputUtf8.Span, null, maxChars);
        }

        AppendError(text, errorMessage, maxChars);
        return text;
    }

    /// <summary>
    /// The text to index for a JSON body: a string value as is; for arrays and objects every
    /// string value (never the keys) in document order, one per line; for chat messages
    /// (objects with <c>role</c> and <c>content</c>) only the content; for a truncation marker
    /// its preserved head. Numbers, booleans and nulls are left out. Stops at
    /// <paramref name="maxChars"/>. Never throws on a body: text that is not JSON is returned as is.
    /// </summary>
    public static string ExtractSearchText(string jsonText, int maxChars)
    {
        ArgumentNullException.ThrowIfNull(jsonText);
        ArgumentOutOfRangeException.ThrowIfNegative(maxChars);
        using var text = new TextBuffer();
        AppendBody(text, jsonText, maxChars);
        return text.ToString();
    }

    private static void AppendError(TextBuffer text, string? errorMessage, int maxChars)
    {
        if (errorMessage is not null)
        {
            text.Append('\n');
            text.Append(errorMessage.AsSpan(0, CutLength(errorMessage, maxChars)));
        }
    }

    private static void AppendBody(TextBuffer text, string jsonText, int maxChars)
    {
        if (maxChars == 0 || jsonText.Length == 0)
        {
            return;
        }

        var rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(jsonText.Length));
        try
        {
            var length = Encoding.UTF8.GetBytes(jsonText, rented);
            AppendBody(text, rented.AsSpan(0, length), jsonText, maxChars);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <param name="original">The body as text when the caller has it (used for the not-JSON fallback).</param>
    private static void AppendBody(TextBuffer text, ReadOnlySpan<byte> utf8, string? original, int maxChars)
    {
        if (maxChars == 0 || utf8.Length == 0)
        {
            return;
        }

        var start = text.Length;
        if (utf8.StartsWith(TruncationPrefix) && TruncationMarker.TryParse(original ?? Encoding.UTF8.GetString(utf8), out var marker))
        {
            text.Append(marker!.Head.AsSpan(0, CutLength(marker.Head, maxChars)));
            return;
        }

        try
        {
            Collect(text, utf8, start, maxChars);
        }
        catch (Exception exception) when (exception is JsonException or ArgumentException or InvalidOperationException)
        {
            text.Truncate(start);
            var raw = original ?? Encoding.UTF8.GetString(utf8);
            text.Append(raw.AsSpan(0, CutLength(raw, maxChars)));
            return;
        }

        if (text.Length - start > maxChars)
        {
            var end = start + maxChars;
            if (char.IsHighSurrogate(text[end - 1]))
            {
                end--;
            }

            text.Truncate(end);
        }
    }

    /// <summary>
    /// Appends the string values of a document in document order. A chat message is only known
    /// once its whole object is read (<c>role</c> may follow <c>content</c>), so a first pass
    /// marks chat messages when the body can hold one; the second pass emits. Both passes read
    /// every token, so a body that is not valid JSON anywhere falls back to its raw text.
    /// </summary>
    private static void Collect(TextBuffer text, ReadOnlySpan<byte> utf8, int start, int maxChars)
    {
        var scratch = Scratch.Take();
        try
        {
            Collect(text, utf8, start, maxChars, scratch);
        }
        finally
        {
            Scratch.Give(scratch);
        }
    }

    private static void Collect(TextBuffer text, ReadOnlySpan<byte> utf8, int start, int maxChars, Scratch scratch)
    {
        var chat = utf8.IndexOf("role"u8) >= 0 || utf8.IndexOf("\\u"u8) >= 0 ? FindChatMessages(utf8, scratch) : null;
        var frames = scratch.Frames;
        var reader = new Utf8JsonReader(utf8, ReaderOptions);
        var objectOrdinal = -1;
        var afterProperty = false;
        var propertyEmit = true;
        var propertyInContent = false;
        var propertyIsContent = false;
        while (reader.Read())
        {
            var token = reader.TokenType;
            if (token == JsonTokenType.PropertyName)
            {
                var owner = frames.Peek();
                afterProperty = true;
                propertyIsContent = false;
                if (!owner.Emit)
                {
                    propertyEmit = false;
                }
                else if (owner.ChatContentStart >= 0)
                {
                    // Only the value of the chat message's (last) content property is emitted.
                    propertyIsContent = reader.ValueTextEquals("content"u8);
                    propertyEmit = propertyIsContent;
                    propertyInContent = true;
                }
                else
                {
                    // Inside message content, "type" names a part kind ("text", "image_url"), not words.
                    propertyEmit = !(owner.InContent && reader.ValueTextEquals("type"u8));
                    propertyInContent = owner.InContent;
                }

                continue;
            }

            if (token is JsonTokenType.EndObject or JsonTokenType.EndArray)
            {
                frames.Pop();
                continue;
            }

            bool emit, inContent;
            if (afterProperty)
            {
                emit = propertyEmit && (!propertyIsContent || reader.TokenStartIndex == frames.Peek().ChatContentStart);
                inContent = propertyInContent;
                afterProperty = false;
            }
            else if (frames.Count > 0)
            {
                var owner = frames.Peek();
                emit = owner.Emit;
                inContent = owner.InContent;
            }
            else
            {
                emit = true;
                inContent = false;
            }

            emit &= text.Length - start < maxChars;
            switch (token)
            {
                case JsonTokenType.String:
                    if (emit)
                    {
                        AppendString(text, ref reader, start, maxChars);
                    }

                    break;
                case JsonTokenType.StartObject:
                    objectOrdinal++;
                    frames.Push(new Frame(emit, inContent, chat is not null && emit ? chat[objectOrdinal] : -1));
                    break;
                case JsonTokenType.StartArray:
                    frames.Push(new Frame(emit, inContent, -1));
                    break;
                default:
                    break;
            }
        }
    }

    /// <summary>
    /// For each object in document order, the start of its last <c>content</c> value when the
    /// object is a chat message (its last <c>role</c> is a string and it has a <c>content</c>),
    /// otherwise -1.
    /// </summary>
    private static List<long> FindChatMessages(ReadOnlySpan<byte> utf8, Scratch scratch)
    {
        var result = scratch.Chat;
        var open = scratch.Open;
        var roles = scratch.Roles;
        var reader = new Utf8JsonReader(utf8, ReaderOptions);
        var pending = 0; // 1: the next value is a role, 2: a content
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName:
                    pending = reader.ValueTextEquals("role"u8) ? 1 : reader.ValueTextEquals("content"u8) ? 2 : 0;
                    continue;
                case JsonTokenType.EndObject:
                    var (ordinal, _) = open.Pop();
                    if (result[ordinal] >= 0 && !(roles.TryGetValue(ordinal, out var isString) && isString))
                    {
                        result[ordinal] = -1;
                    }

                    continue;
                case JsonTokenType.EndArray:
                    open.Pop();
                    continue;
                default:
                    break;
            }

            if (pending != 0)
            {
                var owner = open.Peek().Ordinal;
                if (pending == 1)
                {
                    roles[owner] = reader.TokenType == JsonTokenType.String;
                }
                else
                {
                    result[owner] = reader.TokenStartIndex;
                }

                pending = 0;
            }

            if (reader.TokenType == JsonTokenType.StartObject)
            {
                open.Push((result.Count, true));
                result.Add(-1);
            }
            else if (reader.TokenType == JsonTokenType.StartArray)
            {
                open.Push((-1, false));
            }
        }

        return result;
    }

    /// <param name="start">Where this body's text begins in <paramref name="text"/>.</param>
    /// <param name="maxChars">Where this body's text is cut.</param>
    private static void AppendString(TextBuffer text, ref Utf8JsonReader reader, int start, int maxChars)
    {
        var raw = reader.ValueSpan;
        if (raw.Length == 0)
        {
            return;
        }

        if (text.Length > start)
        {
            text.Append('\n');
        }

        var room = maxChars - (text.Length - start);
        var before = text.Length;
        if (!reader.ValueIsEscaped)
        {
            // Only what the cut can keep: a UTF-16 char takes at most 3 bytes, so this prefix holds
            // at least room + 2 whole characters (a sequence split at its end decodes as U+FFFD, past the cut).
            var useful = 3L * (room + 2);
            text.AppendUtf8(raw.Length > useful ? raw[..(int)useful] : raw);
            return;
        }

        try
        {
            // Unescaping never makes a value longer than its escaped bytes.
            text.Advance(reader.CopyString(text.Reserve(raw.Length)));
        }
        catch (InvalidOperationException)
        {
            // Valid JSON may escape a lone surrogate ("\ud800"), which no .NET string decoder
            // accepts: index the escaped text as written.
            text.Truncate(before);
            text.AppendUtf8(raw);
        }
    }

    private static int CutLength(string text, int maxChars)
    {
        if (text.Length <= maxChars)
        {
            return text.Length;
        }

        return maxChars > 0 && char.IsHighSurrogate(text[maxChars - 1]) ? maxChars - 1 : maxChars;
    }

    private readonly record struct Frame(bool Emit, bool InContent, long ChatContentStart);

    /// <summary>
    /// The collections one extraction works with, kept per thread and reused: the write path
    /// extracts the text of every body it stores, and new stacks, lists and a dictionary for each
    /// body were a few hundred bytes of garbage per run. Taken out of the thread's slot while in
    /// use and put back empty; one grown by an unusually large or deep body is not kept.
    /// </summary>
    private sealed class Scratch
    {
        /// <summary>Past this many entries a collection is left to the GC instead of being kept for the next body.</summary>
        private const int MaxKeptEntries = 4_096;

        [ThreadStatic]
        private static Scratch? t_cached;

        public Stack<Frame> Frames { get; } = new();

        public List<long> Chat { get; } = [];

        public Stack<(int Ordinal, bool IsObject)> Open { get; } = new();

        public Dictionary<int, bool> Roles { get; } = [];

        private int Size => Math.Max(Math.Max(Frames.Capacity, Chat.Capacity), Math.Max(Open.Capacity, Roles.Capacity));

        public static Scratch Take()
        {
            var scratch = t_cached ?? new Scratch();
            t_cached = null;
            return scratch;
        }

        public static void Give(Scratch scratch)
        {
            if (scratch.Size > MaxKeptEntries)
            {
                return;
            }

            scratch.Frames.Clear();
            scratch.Chat.Clear();
            scratch.Open.Clear();
            scratch.Roles.Clear();
            t_cached = scratch;
        }
    }

    /// <summary>A growable character buffer on the shared array pool.</summary>
    private sealed class TextBuffer : IDisposable
    {
        private char[] _chars = ArrayPool<char>.Shared.Rent(1024);

        public int Length { get; private set; }

        public char this[int index] => _chars[index];

        public void Append(char value)
        {
            Reserve(1)[0] = value;
            Length++;
        }

        public void Append(ReadOnlySpan<char> value)
        {
            value.CopyTo(Reserve(value.Length));
            Length += value.Length;
        }

        public void AppendUtf8(ReadOnlySpan<byte> utf8)
        {
            var written = Encoding.UTF8.GetChars(utf8, Reserve(utf8.Length));
            Length += written;
        }

        /// <summary>Room for <paramref name="count"/> more characters after the current end (not yet counted).</summary>
        public Span<char> Reserve(int count)
        {
            if (Length + count > _chars.Length)
            {
                var larger = ArrayPool<char>.Shared.Rent(Math.Max(_chars.Length * 2, Length + count));
                _chars.AsSpan(0, Length).CopyTo(larger);
                ArrayPool<char>.Shared.Return(_chars);
                _chars = larger;
            }

            return _chars.AsSpan(Length, count);
        }

        public void Advance(int count) => Length += count;

        public void Truncate(int length) => Length = length;

        public override string ToString() => new(_chars, 0, Length);

        public byte[] ToUtf8() => Encoding.UTF8.GetBytes(_chars, 0, Length);

        public void Dispose()
        {
            ArrayPool<char>.Shared.Return(_chars);
            _chars = [];
        }
    }
}
