using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace RunLedger.Postgres;

/// <summary>
/// A run's full-text words with their positions (see <see cref="SearchText.ToVector"/>), in the two
/// forms PostgreSQL reads a <c>tsvector</c> in: the binary form for binary COPY and the text form
/// for a <c>::tsvector</c> cast. Both say exactly the same; the words hold only letters and digits,
/// so the text form needs no escaping.
/// </summary>
internal sealed class SearchVector
{
    /// <summary>Words in ordinal order.</summary>
    private readonly string[] _words;

    /// <summary>Where each word's positions start in <see cref="_positions"/> (in the order of <see cref="_words"/>), plus the end.</summary>
    private readonly int[] _offsets;

    private readonly int[] _positions;

    private SearchVector(string[] words, int[] offsets, int[] positions)
    {
        _words = words;
        _offsets = offsets;
        _positions = positions;
    }

    public int Count => _words.Length;

    /// <summary>
    /// The binary form <c>tsvector_recv</c> reads: the lexeme count (int32), then per lexeme its UTF-8
    /// bytes, a zero byte, the position count (int16) and each position (int16: weight D, so the
    /// position alone), all big-endian.
    /// </summary>
    public byte[] ToBinary()
    {
        var size = 4 + (2 * _positions.Length);
        foreach (var word in _words)
        {
            size += Encoding.UTF8.GetByteCount(word) + 1 + 2;
        }

        var buffer = new byte[size];
        var span = buffer.AsSpan();
        BinaryPrimitives.WriteInt32BigEndian(span, _words.Length);
        var offset = 4;
        for (var i = 0; i < _words.Length; i++)
        {
            offset += Encoding.UTF8.GetBytes(_words[i], span[offset..]);
            span[offset++] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(span[offset..], (ushort)(_offsets[i + 1] - _offsets[i]));
            offset += 2;
            for (var p = _offsets[i]; p < _offsets[i + 1]; p++)
            {
                BinaryPrimitives.WriteUInt16BigEndian(span[offset..], (ushort)_positions[p]);
                offset += 2;
            }
        }

        return buffer;
    }

    /// <summary>The text form, e.g. <c>'policy':4,9 'refund':3</c>.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        for (var i = 0; i < _words.Length; i++)
        {
            if (i > 0)
            {
                text.Append(' ');
            }

            text.Append('\'').Append(_words[i]).Append("':");
            for (var p = _offsets[i]; p < _offsets[i + 1]; p++)
            {
                if (p > _offsets[i])
                {
                    text.Append(',');
                }

                text.Append(_positions[p].ToString(CultureInfo.InvariantCulture));
            }
        }

        return text.ToString();
    }

    /// <summary>
    /// Collects words in text order: each takes the next position (the last position repeats past
    /// <see cref="SearchText.MaxPosition"/>); a word keeps at most <see cref="SearchText.MaxPositionsPerLexeme"/>
    /// distinct positions; a word longer than <see cref="SearchText.MaxLexemeBytes"/> in UTF-8 still
    /// takes its position but is left out. One string per distinct word and a few flat arrays: no
    /// list per word.
    /// </summary>
    internal sealed class Builder
    {
        private const int LeftOut = -1;

        /// <summary>Word to its index + 1 (0: not seen yet), or <see cref="LeftOut"/>.</summary>
        private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
        private readonly List<string> _words = [];
        private Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
        private readonly List<int> _counts = [];
        private readonly List<int> _last = [];
        private readonly List<(int Word, int Position)> _occurrences;
        private int _position;

        public Builder(int textLength)
        {
            _lookup = _index.GetAlternateLookup<ReadOnlySpan<char>>();
            _occurrences = new(Math.Min(textLength / 4, 16 * 1024));
        }

        public void Add(ReadOnlySpan<char> word)
        {
            if (word.IsEmpty)
            {
                return;
            }

            _position = Math.Min(_position + 1, SearchText.MaxPosition);
            ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_lookup, word, out var exists);
            if (!exists)
            {
                if (Encoding.UTF8.GetByteCount(word) > SearchText.MaxLexemeBytes)
                {
                    slot = LeftOut;
                    return;
                }

                _words.Add(word.ToString());
                _counts.Add(0);
                _last.Add(0);
                slot = _words.Count;
            }

            if (slot == LeftOut)
            {
                return;
            }

            var w = slot - 1;
            if (_counts[w] < SearchText.MaxPositionsPerLexeme && _last[w] != _position)
            {
                _counts[w]++;
                _last[w] = _position;
                _occurrences.Add((w, _position));
            }
        }

        /// <summary>The vector, words in ordinal order (the server's byte order but for characters past U+FFFF; where they differ the server sorts); null without words.</summary>
        public SearchVector? Build()
        {
            var count = _words.Count;
            if (count == 0)
            {
                return null;
            }

            var words = _words.ToArray();
            var order = new int[count];
            for (var i = 0; i < count; i++)
            {
                order[i] = i;
            }

            Array.Sort(words, order, StringComparer.Ordinal);
            var rank = new int[count];
            var offsets = new int[count + 1];
            for (var i = 0; i < count; i++)
            {
                rank[order[i]] = i;
                offsets[i + 1] = offsets[i] + _counts[order[i]];
            }

            var positions = new int[_occurrences.Count];
            var next = offsets[..count];
            foreach (var (word, position) in _occurrences)
            {
                positions[next[rank[word]]++] = position;
            }

            return new SearchVector(words, offsets, positions);
        }
    }
}
