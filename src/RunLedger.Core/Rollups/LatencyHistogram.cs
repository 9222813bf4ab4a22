using System.Globalization;

namespace RunLedger.Core.Rollups;

/// <summary>
/// A mergeable, log-bucketed histogram of durations in microseconds (DDSketch-style), kept in
/// rollups so latency percentiles survive after the runs they summarize are deleted.
/// </summary>
/// <remarks>
/// <para>
/// Accuracy guarantee: every quantile this histogram reports is within 1% (relative) of the
/// exact nearest-rank value of the recorded durations; the actual bound is 1/128 (0.79%). Values
/// below 128 µs are kept exactly, so their quantiles are exact.
/// </para>
/// <para>
/// Bucketing: each power of two [2^e, 2^(e+1)) from 128 µs up is split into 64 equal buckets, so
/// a bucket is at most 1/64 of its lower bound wide and its midpoint is within 1/128 of every
/// value in it. Indexes are computed with integer arithmetic only, so the same value lands in
/// the same bucket on every machine and merged histograms are byte-for-byte reproducible.
/// Durations above <see cref="MaxMicros"/> (30 days) are counted as 30 days.
/// </para>
/// <para>
/// Counts are exact, so <see cref="Merge"/>, <see cref="Subtract"/> and <see cref="Remove(long)"/>
/// are exact inverses of one another: merging the histograms of disjoint sets gives the same
/// bytes as building one histogram from their union. Storage is sparse: only non-empty buckets
/// are held (at most 2,368), sorted by index.
/// </para>
/// </remarks>
public sealed class LatencyHistogram
{
    /// <summary>The largest duration recorded as itself: 30 days. Larger values are capped.</summary>
    public const long MaxMicros = 30L * 24 * 60 * 60 * 1_000_000;

    /// <summary>The format byte of <see cref="ToBytes"/>.</summary>
    public const byte FormatVersion = 1;

    private const int SubBucketBits = 6;
    private const int SubBuckets = 1 << SubBucketBits;
    private const int ExactLimit = 2 * SubBuckets;

    internal static readonly int MaxIndex = IndexOf(MaxMicros);

    private int[] _indexes;
    private long[] _counts;
    private int _length;

    public LatencyHistogram()
    {
        _indexes = [];
        _counts = [];
    }

    private LatencyHistogram(int[] indexes, long[] counts, int length, long count)
    {
        _indexes = indexes;
        _counts = counts;
        _length = length;
        Count = count;
    }

    /// <summary>How many durations were recorded.</summary>
    public long Count { get; private set; }

    public bool IsEmpty => Count == 0;

    /// <summary>How many buckets hold at least one duration.</summary>
    public int BucketCount => _length;

    /// <summary>Records one duration.</summary>
    public void Add(long micros) => Add(micros, 1);

    /// <summary>Records the same duration <paramref name="count"/> times.</summary>
    public void Add(long micros, long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(micros);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count == 0)
        {
            return;
        }

        var total = checked(Count + count);
        AddToBucket(IndexOf(micros), count);
        Count = total;
    }

    /// <summary>
    /// Takes back one duration recorded before (used when a stored run changes and its old
    /// contribution is subtracted). Throws if no such duration was recorded.
    /// </summary>
    public void Remove(long micros) => Remove(micros, 1);

    /// <summary>Takes back <paramref name="count"/> recordings of the same duration.</summary>
    public void Remove(long micros, long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(micros);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count == 0)
        {
            return;
        }

        var index = IndexOf(micros);
        var position = Array.BinarySearch(_indexes, 0, _length, index);
        if (position < 0 || _counts[position] < count)
        {
            throw new InvalidOperationException(string.Create(
                CultureInfo.InvariantCulture,
                $"Cannot remove {count} duration(s) of {micros} µs: the histogram does not hold them."));
        }

        _counts[position] -= count;
        Count -= count;
        if (_counts[position] == 0)
        {
            RemoveAt(position);
        }
    }

    /// <summary>Adds every duration of <paramref name="other"/> to this histogram.</summary>
    public void Merge(LatencyHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other._length == 0)
        {
            return;
        }

        var total = checked(Count + other.Count);

        // Stats merge thousands of rollup histograms into a few running totals that soon hold
        // most of their buckets, so merge in place: count the buckets that are new here, grow
        // once if needed, then merge from the back so nothing is overwritten before it is read.
        var added = 0;
        for (int i = 0, j = 0; j < other._length;)
        {
            if (i == _length || other._indexes[j] < _indexes[i])
            {
                added++;
                j++;
            }
            else if (_indexes[i] < other._indexes[j])
            {
                i++;
            }
            else
            {
                i++;
                j++;
            }
        }

        var length = _length + added;
        if (length > _indexes.Length)
        {
            var capacity = Math.Max(length, Math.Min(_indexes.Length * 2, MaxIndex + 1));
            Array.Resize(ref _indexes, capacity);
            Array.Resize(ref _counts, capacity);
        }

        int a = _length - 1, b = other._length - 1, n = length - 1;
        while (b >= 0)
        {
            if (a >= 0 && _indexes[a] > other._indexes[b])
            {
                _indexes[n] = _indexes[a];
                _counts[n--] = _counts[a--];
            }
            else if (a >= 0 && _indexes[a] == other._indexes[b])
            {
                _indexes[n] = _indexes[a];
                _counts[n--] = checked(_counts[a--] + other._counts[b--]);
            }
            else
            {
                _indexes[n] = other._indexes[b];
                _counts[n--] = other._counts[b--];
            }
        }

        _length = length;
        Count = total;
    }

    /// <summary>
    /// Takes every duration of <paramref name="other"/> out of this histogram. All or nothing:
    /// throws, leaving this histogram unchanged, unless every bucket holds at least as much.
    /// </summary>
    public void Subtract(LatencyHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var positions = new int[other._length];
        for (var j = 0; j < other._length; j++)
        {
            var position = Array.BinarySearch(_indexes, 0, _length, other._indexes[j]);
            if (position < 0 || _counts[position] < other._counts[j])
            {
                throw new InvalidOperationException(
                    "Cannot subtract a histogram that holds durations this histogram does not.");
            }

            positions[j] = position;
        }

        var emptied = false;
        for (var j = 0; j < other._length; j++)
        {
            _counts[positions[j]] -= other._counts[j];
            emptied |= _counts[positions[j]] == 0;
        }

        Count -= other.Count;
        if (emptied)
        {
            Compact();
        }
    }

    /// <summary>
    /// The duration in microseconds at quantile <paramref name="q"/> (0..1) by the nearest-rank
    /// definition, the value of rank ceil(q * Count), within the documented accuracy;
    /// null when the histogram is empty.
    /// </summary>
    public double? Quantile(double q)
    {
        if (double.IsNaN(q) || q < 0 || q > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(q), q, "A quantile is between 0 and 1.");
        }

        if (Count == 0)
        {
            return null;
        }

        var rank = (long)Math.Ceiling(q * Count);
        rank = Math.Clamp(rank, 1, Count);
        long seen = 0;
        for (var i = 0; i < _length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return ValueOf(_indexes[i]);
            }
        }

        return ValueOf(_indexes[_length - 1]);
    }

    /// <summary>A copy that can change independently of this histogram.</summary>
    public LatencyHistogram Clone() =>
        new(_indexes[.._length], _counts[.._length], _length, Count);

    /// <summary>True when both histograms hold the same counts in the same buckets.</summary>
    public bool ContentEquals(LatencyHistogram? other)
    {
        if (other is null || other._length != _length || other.Count != Count)
        {
            return false;
        }

        return _indexes.AsSpan(0, _length).SequenceEqual(other._indexes.AsSpan(0, other._length))
            && _counts.AsSpan(0, _length).SequenceEqual(other._counts.AsSpan(0, other._length));
    }

    /// <summary>
    /// The compact binary form: the format byte, the number of buckets as a varint, then for
    /// every bucket in index order the index (the first as is, the rest as the gap to the one
    /// before) and the count, both as unsigned LEB128 varints.
    /// </summary>
    public byte[] ToBytes()
    {
        var buffer = new byte[MaxByteCount];
        return buffer[..WriteTo(buffer)];
    }

    /// <summary>The most bytes <see cref="WriteTo"/> can write for this histogram.</summary>
    public int MaxByteCount => 1 + 5 + (_length * (5 + 10));

    /// <summary>
    /// Writes the form <see cref="ToBytes"/> returns into <paramref name="destination"/> (at least
    /// <see cref="MaxByteCount"/> bytes, such as a pooled buffer) and returns how many bytes it wrote.
    /// </summary>
    public int WriteTo(Span<byte> destination)
    {
        var n = 0;
        destination[n++] = FormatVersion;
        n += WriteVarint(destination[n..], (ulong)_length);
        var previous = 0;
        for (var i = 0; i < _length; i++)
        {
            n += WriteVarint(destination[n..], (ulong)(_indexes[i] - previous));
            n += WriteVarint(destination[n..], (ulong)_counts[i]);
            previous = _indexes[i];
        }

        return n;
    }

    /// <summary>Reads the form written by <see cref="ToBytes"/>.</summary>
    /// <exception cref="FormatException">The bytes are not a valid histogram.</exception>
    public static LatencyHistogram FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            throw new FormatException("Latency histogram data is empty.");
        }

        if (bytes[0] != FormatVersion)
        {
            throw new FormatException(string.Create(
                CultureInfo.InvariantCulture,
                $"Unknown latency histogram format {bytes[0]} (expected {FormatVersion})."));
        }

        var offset = 1;
        var length = ReadVarint(bytes, ref offset, "bucket count");
        if (length > (ulong)(MaxIndex + 1))
        {
            throw new FormatException(string.Create(
                CultureInfo.InvariantCulture,
                $"Latency histogram claims {length} buckets; at most {MaxIndex + 1} exist."));
        }

        var indexes = new int[(int)length];
        var counts = new long[(int)length];
        long index = 0;
        long total = 0;
        for (var i = 0; i < indexes.Length; i++)
        {
            var gap = ReadVarint(bytes, ref offset, "bucket index");
            if (i > 0 && gap == 0)
            {
                throw new FormatException("Latency histogram bucket indexes are not strictly increasing.");
            }

            if (gap > (ulong)MaxIndex || index + (long)gap > MaxIndex)
            {
                throw new FormatException("Latency histogram bucket index is out of range.");
            }

            index += (long)gap;
            var count = ReadVarint(bytes, ref offset, "bucket count");
            if (count == 0 || count > long.MaxValue || (long)count > long.MaxValue - total)
            {
                throw new FormatException("Latency histogram bucket count is zero or too large.");
            }

            indexes[i] = (int)index;
            counts[i] = (long)count;
            total += (long)count;
        }

        if (offset != bytes.Length)
        {
            throw new FormatException(string.Create(
                CultureInfo.InvariantCulture,
                $"Latency histogram has {bytes.Length - offset} unexpected trailing byte(s)."));
        }

        return new LatencyHistogram(indexes, counts, indexes.Length, total);
    }

    /// <summary>The bucket index of a duration (values above <see cref="MaxMicros"/> are capped).</summary>
    internal static int IndexOf(long micros)
    {
        var value = Math.Min(micros, MaxMicros);
        if (value < ExactLimit)
        {
            return (int)value;
        }

        var exponent = 63 - long.LeadingZeroCount(value);
        var shift = (int)exponent - SubBucketBits;
        var sub = (int)((value >> shift) & (SubBuckets - 1));
        return ExactLimit + ((shift - 1) * SubBuckets) + sub;
    }

    /// <summary>The smallest duration that falls into a bucket.</summary>
    internal static long LowerBound(int index)
    {
        if (index < ExactLimit)
        {
            return index;
        }

        var shift = ((index - ExactLimit) / SubBuckets) + 1;
        var sub = (index - ExactLimit) % SubBuckets;
        return (long)(SubBuckets + sub) << shift;
    }

    /// <summary>The value reported for a bucket: the midpoint of the integers it holds.</summary>
    internal static double ValueOf(int index)
    {
        if (index < ExactLimit)
        {
            return index;
        }

        var shift = ((index - ExactLimit) / SubBuckets) + 1;
        var width = 1L << shift;
        return LowerBound(index) + ((width - 1) / 2.0);
    }

    private void AddToBucket(int index, long count)
    {
        var position = Array.BinarySearch(_indexes, 0, _length, index);
        if (position >= 0)
        {
            _counts[position] = checked(_counts[position] + count);
            return;
        }

        position = ~position;
        if (_length == _indexes.Length)
        {
            var capacity = Math.Max(8, _length * 2);
            Array.Resize(ref _indexes, capacity);
            Array.Resize(ref _counts, capacity);
        }

        Array.Copy(_indexes, position, _indexes, position + 1, _length - position);
        Array.Copy(_counts, position, _counts, position + 1, _length - position);
        _indexes[position] = index;
        _counts[position] = count;
        _length++;
    }

    private void RemoveAt(int position)
    {
        Array.Copy(_indexes, position + 1, _indexes, position, _length - position - 1);
        Array.Copy(_counts, position + 1, _counts, position, _length - position - 1);
        _length--;
    }

    private void Compact()
    {
        var n = 0;
        for (var i = 0; i < _length; i++)
        {
            if (_counts[i] != 0)
            {
                _indexes[n] = _indexes[i];
                _counts[n++] = _counts[i];
            }
        }

        _length = n;
    }

    private static int WriteVarint(Span<byte> destination, ulong value)
    {
        var n = 0;
        while (value >= 0x80)
        {
            destination[n++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[n++] = (byte)value;
        return n;
    }

    internal static ulong ReadVarint(ReadOnlySpan<byte> bytes, ref int offset, string what)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (offset >= bytes.Length)
            {
                throw new FormatException($"Latency histogram data ends inside a {what}.");
            }

            var b = bytes[offset++];
            if (shift == 63 && b > 1)
            {
                throw new FormatException($"Latency histogram {what} does not fit in 64 bits.");
            }

            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                if (b == 0 && shift > 0)
                {
                    throw new FormatException($"Latency histogram {what} is not minimally encoded.");
                }

                return value;
            }
        }

        throw new FormatException($"Latency histogram {what} is longer than 10 bytes.");
    }
}
