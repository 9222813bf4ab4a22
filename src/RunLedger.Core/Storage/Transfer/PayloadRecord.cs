using RunLedger.Core.Payloads;

namespace RunLedger.Core.Storage.Transfer;

/// <summary>
/// A stored body exactly as kept: its key (the SHA-256 of the original body, or a random key
/// when deduplication was off), the original size, whether <see cref="Data"/> holds a
/// truncation marker, and the encoded bytes. Records are self-contained: a body a store keeps
/// compressed with one of its own dictionaries (<see cref="PayloadEncoding.ZstdDictionary"/>) is
/// exported recompressed on its own, so only a body that could not be decoded at the source ever
/// carries that encoding (and it stays undecodable wherever it is copied).
/// </summary>
public sealed record PayloadRecord(byte[] Key, long OriginalSize, bool Truncated, PayloadEncoding Encoding, byte[] Data)
{
    /// <summary>The stored JSON text (the body, or its truncation marker).</summary>
    public string DecodeText() => PayloadCodec.Decode(Encoding, Data);

    /// <summary>
    /// The stored JSON text, or null when the bytes cannot be decoded (damaged, or an encoding this
    /// version does not know). Such a body is still copied byte for byte; it just is not indexed.
    /// </summary>
    public string? TryDecodeText()
    {
        try
        {
            return DecodeText();
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }
}
