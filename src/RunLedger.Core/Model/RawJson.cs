using System.Text.Json;
using System.Text.Json.Serialization;

namespace RunLedger.Core.Model;

/// <summary>
/// A JSON value kept as the exact text it arrived as. Inputs, outputs, parameters, metadata and
/// event data are stored and served byte for byte, so a string or any JSON value round-trips.
/// </summary>
[JsonConverter(typeof(RawJsonConverter))]
public sealed record RawJson
{
    public RawJson(string text)
    {
        ArgumentException.ThrowIfNullOrEmpty(text);
        Text = text;
    }

    /// <summary>The JSON text of the value (a string value includes its quotes).</summary>
    public string Text { get; }

    public JsonValueKind Kind => Text[0] switch
    {
        '"' => JsonValueKind.String,
        '{' => JsonValueKind.Object,
        '[' => JsonValueKind.Array,
        't' => JsonValueKind.True,
        'f' => JsonValueKind.False,
        'n' => JsonValueKind.Null,
        _ => JsonValueKind.Number,
    };

    public static RawJson FromString(string value) => new(JsonSerializer.Serialize(value));

    public static RawJson Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return new RawJson(document.RootElement.GetRawText());
    }

    public JsonDocument ToDocument() => JsonDocument.Parse(Text);

    public override string ToString() => Text;
}

/// <summary>Reads any JSON value as its raw text and writes it back unchanged.</summary>
public sealed class RawJsonConverter : JsonConverter<RawJson>
{
    public override RawJson? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        using var document = JsonDocument.ParseValue(ref reader);
        return new RawJson(document.RootElement.GetRawText());
    }

    public override void Write(Utf8JsonWriter writer, RawJson value, JsonSerializerOptions options) =>
        writer.WriteRawValue(value.Text, skipInputValidation: true);
}
