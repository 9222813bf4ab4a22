using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Unicode;

namespace RunLedger.Core.Model;

/// <summary>
/// A JSON value kept as the exact text it arrived as. Inputs, outputs, parameters, metadata and
/// event data are stored and served byte for byte, so a string or any JSON value round-trips.
/// </summary>
/// <remarks>
/// A value read from a request keeps the request's UTF-8 bytes and makes its UTF-16
/// <see cref="Text"/> only when asked: bodies are hashed, compressed, indexed and stored as UTF-8,
/// so on the ingest path most of them never become strings at all.
/// </remarks>
[JsonConverter(typeof(RawJsonConverter))]
public sealed record RawJson
{
    private readonly byte[]? _utf8;
    private string? _text;

    public RawJson(string text)
    {
        ArgumentException.ThrowIfNullOrEmpty(text);
        _text = text;
    }

    private RawJson(byte[] utf8)
    {
        _utf8 = utf8;
    }

    /// <summary>The JSON text of the value (a string value includes its quotes).</summary>
    public string Text => _text ??= Encoding.UTF8.GetString(_utf8!);

    /// <summary>
    /// The UTF-8 bytes of <see cref="Text"/>: the bytes the value arrived as when it was read from
    /// JSON, otherwise encoded on each call.
    /// </summary>
    public ReadOnlyMemory<byte> Utf8 => _utf8 ?? Encoding.UTF8.GetBytes(_text!);

    /// <summary>
    /// The UTF-8 bytes the value holds when it was read from JSON, as <see cref="Utf8"/> gives them;
    /// false, without encoding anything, for a value made from text.
    /// </summary>
    public bool TryGetUtf8(out ReadOnlyMemory<byte> utf8)
    {
        utf8 = _utf8;
        return _utf8 is not null;
    }

    /// <summary>The length of <see cref="Utf8"/>, without encoding the text.</summary>
    public int Utf8Length => _utf8?.Length ?? Encoding.UTF8.GetByteCount(_text!);

    public JsonValueKind Kind => (_utf8 is null ? _text![0] : (char)_utf8[0]) switch
    {
        '"' => JsonValueKind.String,
        '{' => JsonValueKind.Object,
        '[' => JsonValueKind.Array,
        't' => JsonValueKind.True,
        'f' => JsonValueKind.False,
        'n' => JsonValueKind.Null,
        _ => JsonValueKind.Number,
    };

    /// <summary>
    /// True when the value is one well-formed JSON value. Always true for a value read from JSON;
    /// a value made from text (<see cref="RawJson(string)"/>) is checked.
    /// </summary>
    public bool IsWellFormed()
    {
        if (_utf8 is not null)
        {
            return true;
        }

        // Read from a pooled buffer: in-process callers send metadata as text, checked for every run.
        var utf8 = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetByteCount(_text!));
        try
        {
            var reader = new Utf8JsonReader(utf8.AsSpan(0, Encoding.UTF8.GetBytes(_text!, utf8)), new JsonReaderOptions { MaxDepth = 256 });
            while (reader.Read())
            {
            }

            return reader.BytesConsumed > 0;
        }
        catch (JsonException)
        {
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(utf8);
        }
    }

    public static RawJson FromString(string value) => new(JsonSerializer.Serialize(value));

    public static RawJson Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return new RawJson(document.RootElement.GetRawText());
    }

    /// <summary>A value from the UTF-8 bytes of valid JSON text (checked by the caller), copied.</summary>
    internal static RawJson FromUtf8(ReadOnlySpan<byte> json) => new(json.ToArray());

    public JsonDocument ToDocument() => _utf8 is null ? JsonDocument.Parse(_text!) : JsonDocument.Parse(_utf8);

    /// <summary>Writes the value as it arrived, from whichever form it holds.</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (_utf8 is null)
        {
            writer.WriteRawValue(_text!, skipInputValidation: true);
        }
        else
        {
            writer.WriteRawValue(_utf8, skipInputValidation: true);
        }
    }

    /// <summary>Two values are equal when their JSON text is, whichever form either holds.</summary>
    public bool Equals(RawJson? other) =>
        other is not null && (ReferenceEquals(this, other)
            || (_utf8 is not null && other._utf8 is not null ? _utf8.AsSpan().SequenceEqual(other._utf8) : string.Equals(Text, other.Text, StringComparison.Ordinal)));

    public override int GetHashCode() => string.GetHashCode(Text, StringComparison.Ordinal);

    public override string ToString() => Text;
}

/// <summary>Reads any JSON value as its raw UTF-8 bytes and writes it back unchanged.</summary>
public sealed class RawJsonConverter : JsonConverter<RawJson>
{
    public override RawJson? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        using var document = JsonDocument.ParseValue(ref reader);
        var raw = JsonMarshal.GetRawUtf8Value(document.RootElement);

        // The reader checks the structure, not the bytes inside strings; a body is stored and
        // hashed as it arrived, so bytes that are not UTF-8 are refused here, where the request
        // can still be answered with the field at fault.
        if (!Utf8.IsValid(raw))
        {
            throw new JsonException("The value is not valid UTF-8 text.");
        }

        return RawJson.FromUtf8(raw);
    }

    public override void Write(Utf8JsonWriter writer, RawJson value, JsonSerializerOptions options) => value.WriteTo(writer);
}
