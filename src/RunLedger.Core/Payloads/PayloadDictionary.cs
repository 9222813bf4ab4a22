using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using ZstdSharp;

namespace RunLedger.Core.Payloads;

/// <summary>
/// A zstd dictionary trained from a ledger's own bodies, and the compression contexts that use it.
/// Bodies of one ledger repeat each other (system prompts, templates, JSON keys) far more than a
/// body repeats itself, so compressing each body against a dictionary of that shared text keeps a
/// body readable on its own (one small frame) at almost the ratio of compressing many bodies
/// together. Thread-safe: contexts are pooled, one per concurrent caller and at most
/// <see cref="MaxPooledContexts"/> of each kind; <see cref="PayloadDictionaries"/> releases the pools
/// of dictionaries no longer current and not used lately.
/// </summary>
public sealed class PayloadDictionary : IDisposable
{
    /// <summary>Smallest id a trained dictionary gets (zstd reserves lower ids for registered dictionaries).</summary>
    public const uint MinId = 32_768;

    private const uint DictionaryMagic = 0xEC30A437;
    private const uint FrameMagic = 0xFD2FB528;

    private readonly ConcurrentBag<Compressor> _compressors = [];
    private readonly ConcurrentBag<Decompressor> _decompressors = [];
    private readonly byte[] _data;
    private readonly int _level;
    private volatile bool _disposed;
    private int _pooledCompressors;
    private int _pooledDecompressors;
    private int _used;

    /// <summary>Wraps a dictionary as stored (zstd dictionary format, its id in the header).</summary>
    /// <exception cref="InvalidDataException">The bytes are not a zstd dictionary.</exception>
    public PayloadDictionary(byte[] data, int compressionLevel)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length < 8 || BinaryPrimitives.ReadUInt32LittleEndian(data) != DictionaryMagic)
        {
            throw new InvalidDataException("A stored payload dictionary is not a zstd dictionary.");
        }

        _data = data;
        _level = compressionLevel;
        Id = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(4));
    }

    /// <summary>The dictionary's id: written in the header of every frame compressed with it.</summary>
    public uint Id { get; }

    /// <summary>The dictionary as stored.</summary>
    public ReadOnlyMemory<byte> Data => _data;

    /// <summary>
    /// Most contexts of each kind (compressing, decompressing) kept for reuse: four per core. Callers
    /// preempted mid-body (several submitting threads per core) each hold one, and a context made
    /// afresh loads the dictionary again, which costs far more than compressing a body, so the bound
    /// is generous; it only stops a burst of readers from keeping contexts for good.
    /// </summary>
    public static int MaxPooledContexts => 4 * Environment.ProcessorCount;

    /// <summary>Compression and decompression contexts pooled now.</summary>
    public int PooledContexts => Volatile.Read(ref _pooledCompressors) + Volatile.Read(ref _pooledDecompressors);

    /// <summary>
    /// Trains a dictionary of at most <paramref name="capacity"/> bytes from sample bodies and gives
    /// it <paramref name="id"/>. Null when zstd finds nothing to learn (too few or too small samples).
    /// </summary>
    public static PayloadDictionary? Train(IReadOnlyCollection<byte[]> samples, int capacity, uint id, int compressionLevel)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentOutOfRangeException.ThrowIfLessThan(id, MinId);
        byte[] data;
        try
        {
            data = DictBuilder.TrainFromBuffer(samples, capacity);
        }
        catch (ZstdException)
        {
            return null;
        }

        if (data.Length < 8 || BinaryPrimitives.ReadUInt32LittleEndian(data) != DictionaryMagic)
        {
            return null;
        }

        // The id in a dictionary's header is the one frames carry; a ledger picks its own (RFC 8878, 5).
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(4), id);
        return new PayloadDictionary(data, compressionLevel);
    }

    /// <summary>
    /// The dictionary id in a zstd frame's header (RFC 8878, 3.1.1.1), or null when the bytes are not a
    /// zstd frame or name no dictionary.
    /// </summary>
    public static uint? FrameDictionaryId(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < 5 || BinaryPrimitives.ReadUInt32LittleEndian(frame) != FrameMagic)
        {
            return null;
        }

        var descriptor = frame[4];
        var idBytes = (descriptor & 3) switch
        {
            0 => 0,
            1 => 1,
            2 => 2,
            _ => 4,
        };
        var singleSegment = (descriptor & 0x20) != 0;
        var at = 5 + (singleSegment ? 0 : 1);
        if (idBytes == 0 || frame.Length < at + idBytes)
        {
            return null;
        }

        return idBytes switch
        {
            1 => frame[at],
            2 => BinaryPrimitives.ReadUInt16LittleEndian(frame[at..]),
            _ => BinaryPrimitives.ReadUInt32LittleEndian(frame[at..]),
        };
    }

    /// <summary>One zstd frame of <paramref name="text"/> compressed with this dictionary.</summary>
    public byte[] Compress(ReadOnlySpan<byte> text)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Volatile.Write(ref _used, 1);
        if (_compressors.TryTake(out var compressor))
        {
            Interlocked.Decrement(ref _pooledCompressors);
        }
        else
        {
            compressor = new Compressor(_level);
            compressor.LoadDictionary(_data);
        }

        // The frame is written into a pooled buffer of the worst-case size and copied out at its
        // own length: Wrap(text) without a destination allocates that worst case (more than the
        // body) on every call, only for the frame to be copied out of it.
        var scratch = ArrayPool<byte>.Shared.Rent(Compressor.GetCompressBound(text.Length));
        try
        {
            var written = compressor.Wrap(text, scratch);
            return scratch.AsSpan(0, written).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
            Return(_compressors, ref _pooledCompressors, compressor);
        }
    }

    /// <summary>Decompresses one frame written by <see cref="Compress"/>.</summary>
    /// <exception cref="InvalidDataException">The frame is damaged or was not written with this dictionary.</exception>
    public byte[] Decompress(ReadOnlySpan<byte> frame)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ulong size;
        try
        {
            size = Decompressor.GetDecompressedSize(frame);
        }
        catch (ZstdException exception)
        {
            throw new InvalidDataException("Stored payload is not a valid zstd frame.", exception);
        }

        // Frames are written whole, so they always carry their size; anything else is damage.
        if (size > (ulong)Array.MaxLength)
        {
            throw new InvalidDataException("Stored payload's zstd frame does not state a valid size.");
        }

        Volatile.Write(ref _used, 1);
        if (_decompressors.TryTake(out var decompressor))
        {
            Interlocked.Decrement(ref _pooledDecompressors);
        }
        else
        {
            decompressor = new Decompressor();
            decompressor.LoadDictionary(_data);
        }

        try
        {
            var output = new byte[(int)size];
            var written = decompressor.Unwrap(frame, output);
            if (written != output.Length)
            {
                throw new InvalidDataException(string.Create(
                    CultureInfo.InvariantCulture, $"Stored payload's zstd frame held {written} bytes instead of the {size} it states."));
            }

            return output;
        }
        catch (ZstdException exception)
        {
            // A context that failed mid-frame is not reused.
            decompressor.Dispose();
            decompressor = null;
            throw new InvalidDataException($"Stored payload could not be decompressed: {exception.Message}", exception);
        }
        finally
        {
            if (decompressor is not null)
            {
                Return(_decompressors, ref _pooledDecompressors, decompressor);
            }
        }
    }

    /// <summary>Disposes the pooled contexts; the dictionary stays usable and makes new ones when used again.</summary>
    public void ReleaseContexts()
    {
        while (_compressors.TryTake(out var compressor))
        {
            Interlocked.Decrement(ref _pooledCompressors);
            compressor.Dispose();
        }

        while (_decompressors.TryTake(out var decompressor))
        {
            Interlocked.Decrement(ref _pooledDecompressors);
            decompressor.Dispose();
        }
    }

    /// <summary>True when the dictionary compressed or decompressed since the previous call.</summary>
    internal bool TakeUsed() => Interlocked.Exchange(ref _used, 0) == 1;

    public void Dispose()
    {
        _disposed = true;
        ReleaseContexts();
    }

    private void Return<T>(ConcurrentBag<T> pool, ref int pooled, T context)
        where T : IDisposable
    {
        if (_disposed)
        {
            context.Dispose();
            return;
        }

        if (Interlocked.Increment(ref pooled) > MaxPooledContexts)
        {
            Interlocked.Decrement(ref pooled);
            context.Dispose();
            return;
        }

        pool.Add(context);
    }
}
