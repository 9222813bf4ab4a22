namespace RunLedger.Core.Rollups;

/// <summary>
/// Many latency histograms added together, as stats do when they read thousands of rollup rows
/// into a few groups: the counts sit in a dense array over the range of bucket indexes seen, so
/// adding a stored histogram is one pass over its bytes, straight from the reader's buffer, with
/// no sparse merge and no allocation per row. Quantiles are the same as those of the
/// <see cref="LatencyHistogram"/> built from the same durations (same buckets, same counts).
/// </summary>
public sealed class LatencyHistogramSum
{
    private long[] _counts = [];
    private int _offset;

    /// <summary>How many durations were added.</summary>
    public long Count { get; private set; }

    /// <summary>Adds one duration.</summary>
    public void Add(long micros)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(micros);
        var index = LatencyHistogram.IndexOf(micros);
        EnsureRange(index, index);
        _counts[index - _offset]++;
        Count++;
    }

    /// <summary>
    /// Adds the histograms in <paramref name="bytes"/>: one or more forms written by
    /// <see cref="LatencyHistogram.ToBytes"/>, back to back (PostgreSQL's <c>string_agg</c> of the
    /// stored column gives them so). Checks them as <see cref="LatencyHistogram.FromBytes"/> does.
    /// </summary>
    /// <exception cref="FormatException">The bytes are not valid histograms.</exception>
    public void AddBytes(ReadOnlySpan<byte> bytes)
    {
        var offset = 0;
        while (offset < bytes.Length)
        {
            offset = AddOne(bytes, offset);
        }
    }

    /// <summary>Adds every duration of <paramref name="other"/>.</summary>
    public void Add(LatencyHistogramSum other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Count == 0)
        {
            return;
        }

        EnsureRange(other._offset, other._offset + other._counts.Length - 1);
        var target = _counts.AsSpan(other._offset - _offset, other._counts.Length);
        var source = other._counts.AsSpan();
        for (var i = 0; i < source.Length; i++)
        {
            target[i] += source[i];
        }

        Count += other.Count;
    }

    /// <summary>The duration at quantile <paramref name="q"/> as <see cref="LatencyHistogram.Quantile"/> gives it; null when empty.</summary>
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

        var rank = Math.Clamp((long)Math.Ceiling(q * Count), 1, Count);
        long seen = 0;
        var last = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            if (_counts[i] == 0)
            {
                continue;
            }

            last = i;
            seen += _counts[i];
            if (seen >= rank)
            {
                return LatencyHistogram.ValueOf(i + _offset);
            }
        }

        return LatencyHistogram.ValueOf(last + _offset);
    }

    /// <summary>The same durations as a sparse <see cref="LatencyHistogram"/>.</summary>
    public LatencyHistogram ToHistogram()
    {
        var histogram = new LatencyHistogram();
        for (var i = 0; i < _counts.Length; i++)
        {
            if (_counts[i] != 0)
            {
                histogram.Add(LatencyHistogram.LowerBound(i + _offset), _counts[i]);
            }
        }

        return histogram;
    }

    private int AddOne(ReadOnlySpan<byte> bytes, int offset)
    {
        if (bytes[offset] != LatencyHistogram.FormatVersion)
        {
            throw new FormatException($"Unknown latency histogram format {bytes[offset]} (expected {LatencyHistogram.FormatVersion}).");
        }

        offset++;
        var length = LatencyHistogram.ReadVarint(bytes, ref offset, "bucket count");
        if (length > (ulong)(LatencyHistogram.MaxIndex + 1))
        {
            throw new FormatException($"Latency histogram claims {length} buckets; at most {LatencyHistogram.MaxIndex + 1} exist.");
        }

        long index = 0;
        long total = 0;
        for (ulong i = 0; i < length; i++)
        {
            var gap = LatencyHistogram.ReadVarint(bytes, ref offset, "bucket index");
            if ((i > 0 && gap == 0) || gap > (ulong)LatencyHistogram.MaxIndex || index + (long)gap > LatencyHistogram.MaxIndex)
            {
                throw new FormatException("Latency histogram bucket indexes are not strictly increasing or out of range.");
            }

            index += (long)gap;
            var count = LatencyHistogram.ReadVarint(bytes, ref offset, "bucket count");
            if (count == 0 || count > long.MaxValue || (long)count > long.MaxValue - total)
            {
                throw new FormatException("Latency histogram bucket count is zero or too large.");
            }

            if (index < _offset || index - _offset >= _counts.Length)
            {
                EnsureRange((int)index, (int)index);
            }

            _counts[(int)index - _offset] += (long)count;
            total += (long)count;
        }

        Count = checked(Count + total);
        return offset;
    }

    /// <summary>Grows the dense array so it covers bucket indexes <paramref name="low"/>..<paramref name="high"/>.</summary>
    private void EnsureRange(int low, int high)
    {
        if (_counts.Length == 0)
        {
            // Room for the neighbouring buckets a latency distribution usually spreads over.
            var start = Math.Max(0, low - 32);
            var end = Math.Min(LatencyHistogram.MaxIndex, Math.Max(high, low) + 96);
            _counts = new long[end - start + 1];
            _offset = start;
            return;
        }

        var currentEnd = _offset + _counts.Length - 1;
        if (low >= _offset && high <= currentEnd)
        {
            return;
        }

        // Grow by at least half again, so adding buckets one at a time stays linear overall.
        var slack = Math.Max(32, _counts.Length / 2);
        var newStart = low < _offset ? Math.Max(0, low - slack) : _offset;
        var newEnd = high > currentEnd ? Math.Min(LatencyHistogram.MaxIndex, high + slack) : currentEnd;
        var grown = new long[newEnd - newStart + 1];
        _counts.CopyTo(grown, _offset - newStart);
        _counts = grown;
        _offset = newStart;
    }
}
