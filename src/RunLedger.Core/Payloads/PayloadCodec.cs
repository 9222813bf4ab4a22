using System.Buffers;
using System.Globalization;
using System.IO.Compression;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace RunLedger.Core.Payloads;

/// <summary>
/// Turns a body (JSON text) into what is stored: hashed for deduplication, truncated with an
/// explicit <see cref="TruncationMarker"/> when over the limit, and compressed when that makes it
/// smaller: with the ledger's current zstd dictionary when it has one (<see cref="PayloadDictionary"/>),
/// else with Brotli. Each body stays one self-contained value, so a run's bodies are read without
/// touching any other body, and deleting or deduplicating bodies stays a matter of rows.
/// </summary>
public static class PayloadCodec
{
    private const int MinWindowBits = 10;
    private const int MaxWindowBits = 24;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static readonly JsonWriterOptions MarkerWriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// Encodes a body. The hash and size are always those of the original text's UTF-8 bytes,
    /// so two equal bodies give equal hashes and equal data whatever the limits. (A lone UTF-16
    /// surrogate, which UTF-8 cannot carry, is stored as U+FFFD.)
    /// </summary>
    public static EncodedPayload Encode(string jsonText, PayloadOptions options)
    {
        ArgumentNullException.ThrowIfNull(jsonText);
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors), nameof(options));
        }

        var original = Encoding.UTF8.GetBytes(jsonText);
        return Encode(original, SHA256.HashData(original), options);
    }

    /// <summary>
    /// Encodes a body whose UTF-8 bytes and SHA-256 the caller already has (the store hashes
    /// first to skip bodies it holds). <paramref name="options"/> must have been validated.
    /// </summary>
    public static EncodedPayload Encode(byte[] original, byte[] hash, PayloadOptions options) => Encode(original, hash, options, null);

    /// <summary>
    /// Encodes a body as <see cref="Encode(byte[], byte[], PayloadOptions)"/> does, compressing it with
    /// <paramref name="dictionary"/> when one is given (the caller's store must already hold it).
    /// </summary>
    public static EncodedPayload Encode(byte[] original, byte[] hash, PayloadOptions options, PayloadDictionary? dictionary)
    {
        ArgumentNullException.ThrowIfNull(original);
        return Encode(original, original, hash, options, dictionary);
    }

    /// <summary>
    /// Encodes a body as <see cref="Encode(byte[], byte[], PayloadOptions, PayloadDictionary?)"/>
    /// does from bytes the caller keeps (a pooled buffer): they are copied only when the body is
    /// stored as is, so the result never refers to <paramref name="original"/>.
    /// </summary>
    public static EncodedPayload Encode(ReadOnlySpan<byte> original, byte[] hash, PayloadOptions options, PayloadDictionary? dictionary) =>
        Encode(original, null, hash, options, dictionary);

    /// <param name="originalArray">The array <paramref name="original"/> is, whole, when the result may keep it; null to copy.</param>
    private static EncodedPayload Encode(ReadOnlySpan<byte> original, byte[]? originalArray, byte[] hash, PayloadOptions options, PayloadDictionary? dictionary)
    {
        ArgumentNullException.ThrowIfNull(hash);
        ArgumentNullException.ThrowIfNull(options);
        var truncated = original.Length > options.MaxBodyBytes;
        var (encoding, data) = truncated
            ? Compress(BuildMarker(original, hash, options.TruncatedHeadBytes), options, dictionary)
            : Compress(original, originalArray, options, dictionary);
        return new EncodedPayload(hash, original.Length, truncated, encoding, data);
    }

    /// <summary>
    /// The stored form of a body's text (the body, or its truncation marker): compressed with
    /// <paramref name="dictionary"/> when given and the text is at least
    /// <see cref="PayloadOptions.DictionaryThresholdBytes"/>, else with Brotli when at least
    /// <see cref="PayloadOptions.CompressionThresholdBytes"/>, and as is when compression does not make
    /// it smaller. With no dictionary the result can be read anywhere (a transfer sends bodies so).
    /// </summary>
    public static (PayloadEncoding Encoding, byte[] Data) Compress(byte[] text, PayloadOptions options, PayloadDictionary? dictionary)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Compress(text, text, options, dictionary);
    }

    /// <param name="textArray">The array <paramref name="text"/> is, whole, when the result may keep it; null to copy.</param>
    private static (PayloadEncoding Encoding, byte[] Data) Compress(ReadOnlySpan<byte> text, byte[]? textArray, PayloadOptions options, PayloadDictionary? dictionary)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (dictionary is not null)
        {
            if (text.Length >= options.DictionaryThresholdBytes && text.Length > 0)
            {
                var frame = dictionary.Compress(text);
                if (frame.Length < text.Length)
                {
                    return (PayloadEncoding.ZstdDictionary, frame);
                }
            }

            return (PayloadEncoding.Utf8, textArray ?? text.ToArray());
        }

        if (text.Length >= options.CompressionThresholdBytes && text.Length > 0
            && TryCompress(text, options.CompressionQuality, out var compressed))
        {
            return (PayloadEncoding.Brotli, compressed);
        }

        return (PayloadEncoding.Utf8, textArray ?? text.ToArray());
    }

    /// <summary>
    /// A body encoded without a dictionary (Brotli or as is), encoded again with
    /// <paramref name="dictionary"/>: a store that got its first dictionary while bodies were being
    /// prepared without one stores them compressed with it all the same. Anything else is returned as is.
    /// </summary>
    public static EncodedPayload Reencode(EncodedPayload encoded, PayloadOptions options, PayloadDictionary dictionary)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(dictionary);
        if (encoded.Encoding is not (PayloadEncoding.Utf8 or PayloadEncoding.Brotli) || encoded.Data.Length < options.DictionaryThresholdBytes)
        {
            return encoded;
        }

        var (encoding, data) = Compress(Utf8Of(encoded.Encoding, encoded.Data, null).ToArray(), options, dictionary);
        return encoding == encoded.Encoding ? encoded : encoded with { Encoding = encoding, Data = data };
    }

    /// <summary>
    /// The text <see cref="Encode(byte[], byte[], PayloadOptions)"/> keeps of a body over
    /// <see cref="PayloadOptions.MaxBodyBytes"/> (its truncation marker with the head), or null
    /// when the body is stored whole. Stores index what they store, so a run is found by the same
    /// words whether its text came from the request or is read back from the stored body.
    /// </summary>
    public static string? TruncatedText(byte[] original, byte[] hash, PayloadOptions options)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(hash);
        ArgumentNullException.ThrowIfNull(options);
        return original.Length > options.MaxBodyBytes ? Encoding.UTF8.GetString(BuildMarker(original, hash, options.TruncatedHeadBytes)) : null;
    }

    /// <summary>Turns stored bytes back into the JSON text (or truncation marker) that was encoded.</summary>
    /// <exception cref="InvalidDataException">The bytes are not valid for <paramref name="encoding"/>.</exception>
    public static string Decode(PayloadEncoding encoding, ReadOnlySpan<byte> data) => DecodeUtf8(Utf8Of(encoding, data, null));

    /// <summary>Turns stored bytes back into text, finding a body's dictionary in <paramref name="dictionaries"/>.</summary>
    /// <exception cref="InvalidDataException">The bytes are not valid for <paramref name="encoding"/>, or their dictionary is not held.</exception>
    public static string Decode(PayloadEncoding encoding, ReadOnlySpan<byte> data, PayloadDictionaries? dictionaries) =>
        DecodeUtf8(Utf8Of(encoding, data, dictionaries));

    /// <summary>The UTF-8 bytes of what was encoded (decompressed when stored compressed), not yet checked to be valid UTF-8.</summary>
    /// <exception cref="InvalidDataException">The bytes are not valid for <paramref name="encoding"/>, or their dictionary is not held.</exception>
    public static ReadOnlySpan<byte> Utf8Of(PayloadEncoding encoding, ReadOnlySpan<byte> data, PayloadDictionaries? dictionaries) => encoding switch
    {
        PayloadEncoding.Utf8 => data,
        PayloadEncoding.Brotli => Decompress(data),
        PayloadEncoding.ZstdDictionary => DictionaryFor(data, dictionaries).Decompress(data),
        _ => throw new InvalidDataException(string.Create(
            CultureInfo.InvariantCulture, $"Unknown payload encoding {(int)encoding}.")),
    };

    /// <summary>Strict UTF-8 to text.</summary>
    /// <exception cref="InvalidDataException">The bytes are not valid UTF-8.</exception>
    public static string TextOf(ReadOnlySpan<byte> utf8) => DecodeUtf8(utf8);

    /// <summary>True when <paramref name="json"/> is a truncation marker written by <see cref="Encode"/>.</summary>
    public static bool IsTruncationMarker(string? json) => TruncationMarker.TryParse(json, out _);

    private static PayloadDictionary DictionaryFor(ReadOnlySpan<byte> frame, PayloadDictionaries? dictionaries)
    {
        var id = PayloadDictionary.FrameDictionaryId(frame)
            ?? throw new InvalidDataException("Stored payload is not a zstd frame that names its dictionary.");
        return dictionaries?.Find(id) ?? throw new InvalidDataException(string.Create(
            CultureInfo.InvariantCulture, $"Stored payload was compressed with dictionary {id}, which this store does not hold."));
    }

    private static byte[] BuildMarker(ReadOnlySpan<byte> original, byte[] hash, int headBytes)
    {
        var cut = Math.Min(headBytes, original.Length);
        while (cut > 0 && cut < original.Length && (original[cut] & 0xC0) == 0x80)
        {
            cut--;
        }

        var buffer = new ArrayBufferWriter<byte>(cut + 160);
        using (var writer = new Utf8JsonWriter(buffer, MarkerWriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteBoolean(TruncationMarker.FlagProperty, true);
            writer.WriteNumber("originalBytes", original.Length);
            writer.WriteString("sha256", Convert.ToHexStringLower(hash));
            writer.WriteString("head", Encoding.UTF8.GetString(original[..cut]));
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static bool TryCompress(ReadOnlySpan<byte> text, int quality, out byte[] compressed)
    {
        var window = Math.Clamp(BitOperations.Log2((uint)text.Length - 1) + 1, MinWindowBits, MaxWindowBits);

        // Compressed into a pooled buffer of the worst-case size (larger than the body) and
        // copied out at its own length: every body on the write path comes through here.
        var buffer = ArrayPool<byte>.Shared.Rent(BrotliEncoder.GetMaxCompressedLength(text.Length));
        try
        {
            if (BrotliEncoder.TryCompress(text, buffer, out var written, quality, window) && written < text.Length)
            {
                compressed = buffer.AsSpan(0, written).ToArray();
                return true;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        compressed = [];
        return false;
    }

    private static byte[] Decompress(ReadOnlySpan<byte> data)
    {
        using var decoder = new BrotliDecoder();
        var output = new byte[Math.Max(1024, Math.Min(data.Length * 4, Array.MaxLength / 2))];
        var total = 0;
        while (true)
        {
            var status = decoder.Decompress(data, output.AsSpan(total), out var consumed, out var written);
            data = data[consumed..];
            total += written;
            switch (status)
            {
                case OperationStatus.Done:
                    if (!data.IsEmpty)
                    {
                        throw new InvalidDataException("Stored payload has data after the end of its Brotli stream.");
                    }

                    return output[..total];
                case OperationStatus.DestinationTooSmall:
                    if (output.Length >= Array.MaxLength)
                    {
                        throw new InvalidDataException("Stored payload decompresses to more than the largest possible body.");
                    }

                    Array.Resize(ref output, (int)Math.Min((long)output.Length * 2, Array.MaxLength));
                    break;
                case OperationStatus.NeedMoreData:
                    throw new InvalidDataException("Stored payload ends in the middle of its Brotli stream.");
                default:
                    throw new InvalidDataException("Stored payload is not valid Brotli data.");
            }
        }
    }

    private static string DecodeUtf8(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException exception)
        {
            throw new InvalidDataException("Stored payload is not valid UTF-8.", exception);
        }
    }
}
