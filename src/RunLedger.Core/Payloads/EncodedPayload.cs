namespace RunLedger.Core.Payloads;

/// <summary>A body ready to store, as produced by <see cref="PayloadCodec.Encode"/>.</summary>
/// <param name="Hash">The 32-byte SHA-256 of the original body's UTF-8 bytes (before any truncation): the dedup key.</param>
/// <param name="OriginalSize">The size of the original body in UTF-8 bytes.</param>
/// <param name="Truncated">True when <paramref name="Data"/> holds a truncation marker instead of the body.</param>
/// <param name="Encoding">How <paramref name="Data"/> is encoded.</param>
/// <param name="Data">The bytes to store; <see cref="PayloadCodec.Decode"/> turns them back into JSON text.</param>
public sealed record EncodedPayload(byte[] Hash, long OriginalSize, bool Truncated, PayloadEncoding Encoding, byte[] Data)
{
    /// <summary>The hash as lower-case hex, the form used on the wire and in truncation markers.</summary>
    public string HashHex => Convert.ToHexStringLower(Hash);
}
