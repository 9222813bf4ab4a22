using System.Text.Json;
using RunLedger.Core.Model;

namespace RunLedger.Core.Payloads;

/// <summary>
/// Turns a stored body back into what a reader serves. A body that cannot be decoded does not fail
/// the read: it comes back without text and with <see cref="PayloadInfo.Unreadable"/> saying why, so
/// the rest of the run (usage, cost, error, children, events) can still be shown. Both stores read
/// bodies through here.
/// </summary>
public static class StoredBody
{
    /// <summary>Decodes one stored body; never throws for damaged or unknown stored bytes.</summary>
    public static (RawJson? Body, PayloadInfo Info) Read(
        PayloadEncoding encoding, byte[] data, long originalBytes, string sha256, bool truncated) =>
        Read(encoding, data, originalBytes, sha256, truncated, null);

    /// <summary>Decodes one stored body, finding its compression dictionary in <paramref name="dictionaries"/>; never throws for damaged or unknown stored bytes.</summary>
    public static (RawJson? Body, PayloadInfo Info) Read(
        PayloadEncoding encoding, byte[] data, long originalBytes, string sha256, bool truncated, PayloadDictionaries? dictionaries)
    {
        ArgumentNullException.ThrowIfNull(data);
        var info = new PayloadInfo(originalBytes, sha256, truncated);
        string text;
        try
        {
            // One decompression: the JSON check reads the same bytes the text is made from.
            var utf8 = PayloadCodec.Utf8Of(encoding, data, dictionaries);
            text = PayloadCodec.TextOf(utf8);

            // Bodies are served as raw JSON text without re-validation, so text that decodes but is no
            // longer one JSON value (a flipped byte) would break the whole response; report it instead.
            if (!IsSingleJsonValue(utf8))
            {
                return (null, info with { Unreadable = "stored body could not be decoded: it is not valid JSON." });
            }
        }
        catch (InvalidDataException exception)
        {
            return (null, info with { Unreadable = $"stored body could not be decoded: {exception.Message}" });
        }

        return (new RawJson(text), info);
    }

    private static bool IsSingleJsonValue(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty)
        {
            return false;
        }

        try
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            return reader.Read() && reader.TrySkip() && !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
