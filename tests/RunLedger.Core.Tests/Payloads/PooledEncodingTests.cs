using System.Text;
using RunLedger.Core.Payloads;
using RunLedger.Core.Rollups;

namespace RunLedger.Core.Tests.Payloads;

/// <summary>The pooled/span paths give the bytes the array paths give, on many threads at once.</summary>
public sealed class PooledEncodingTests
{
    private static byte[] Body(int seed, int size)
    {
        var random = new Random(seed);
        var sb = new StringBuilder("{\"role\":\"user\",\"content\":\"");
        string[] words = ["alpha", "caf\u00e9", "\u65e5\u672c", "\\u00e9t\u00e9", "x\\\"y", "reply", "token"];
        while (sb.Length < size)
        {
            sb.Append(words[random.Next(words.Length)]).Append(' ');
        }

        sb.Append("\"}");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    [Fact]
    public void Encode_FromSpanInDirtyLargerBuffer_EqualsEncodeFromArray()
    {
        var options = new PayloadOptions { MaxBodyBytes = 50_000, TruncatedHeadBytes = 1_000 };
        var samples = Enumerable.Range(0, 200).Select(i => Body(i, 2_000)).ToList();
        var dictionary = PayloadDictionary.Train(samples, 4 * 1024, 40_000, 3).ShouldNotBeNull();
        using var known = new PayloadDictionaries(id => id == 40_000 ? dictionary : null);
        foreach (var size in new[] { 1, 20, 255, 256, 300, 4_000, 49_999, 50_000, 50_001, 200_000 })
        {
            var body = Body(size, size);
            var hash = System.Security.Cryptography.SHA256.HashData(body);
            foreach (var dict in new[] { null, dictionary })
            {
                var fromArray = PayloadCodec.Encode(body, hash, options, dict);

                // A rented-like buffer: longer than the body, its tail full of other bytes.
                var larger = new byte[body.Length + 1000];
                Array.Fill(larger, (byte)'Z');
                body.CopyTo(larger, 0);
                var fromSpan = PayloadCodec.Encode(larger.AsSpan(0, body.Length), hash, options, dict);
                Array.Fill(larger, (byte)'Q');

                fromSpan.Encoding.ShouldBe(fromArray.Encoding, $"size {size}");
                fromSpan.Truncated.ShouldBe(fromArray.Truncated);
                fromSpan.OriginalSize.ShouldBe(fromArray.OriginalSize);
                fromSpan.Data.ShouldBe(fromArray.Data, $"size {size} dict {dict is not null}");
                var back = PayloadCodec.Utf8Of(fromSpan.Encoding, fromSpan.Data, known).ToArray();
                if (!fromSpan.Truncated)
                {
                    back.ShouldBe(body);
                }
            }
        }
    }

    [Fact]
    public void SearchText_OnManyThreadsAtOnce_EqualsTheTextOfOneThread()
    {
        var bodies = Enumerable.Range(0, 64).Select(i => Body(i, 50 + (i * 997 % 20_000))).ToArray();
        bodies[5] = Encoding.UTF8.GetBytes("not json { \"role\"");
        bodies[6] = Encoding.UTF8.GetBytes("[" + string.Concat(Enumerable.Repeat("{\"role\":\"user\",\"content\":\"w\"},", 5_000)) + "1]");
        var expected = bodies.Select(b => PayloadText.RunSearchTextAsUtf8(b, b, "err", 4_000)).ToArray();
        var wrong = 0;
        Parallel.For(0, 2_000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var k = i % bodies.Length;
            var larger = new byte[bodies[k].Length + 64];
            bodies[k].CopyTo(larger, 0);
            var text = PayloadText.RunSearchTextAsUtf8(new ReadOnlyMemory<byte>(larger, 0, bodies[k].Length), bodies[k].AsMemory(), "err", 4_000);
            if (!text.AsSpan().SequenceEqual(expected[k]))
            {
                Interlocked.Increment(ref wrong);
            }
        });
        wrong.ShouldBe(0);
        PayloadText.RunSearchTextAsUtf8(null, null, "e", 10).ShouldBe(Encoding.UTF8.GetBytes("\ne"));
        PayloadText.RunSearchTextAsUtf8((ReadOnlyMemory<byte>?)null, ReadOnlyMemory<byte>.Empty, "e", 10).ShouldBe(Encoding.UTF8.GetBytes("\n\ne"));
    }

    [Fact]
    public void Histogram_WriteToDirtyLargerBuffer_EqualsToBytes()
    {
        var histogram = new LatencyHistogram();
        var random = new Random(3);
        for (var i = 0; i < 5_000; i++)
        {
            histogram.Add(random.NextInt64(1, 100_000_000));
        }

        var buffer = new byte[histogram.MaxByteCount + 100];
        Array.Fill(buffer, (byte)0xEE);
        var written = histogram.WriteTo(buffer);
        buffer.AsSpan(0, written).ToArray().ShouldBe(histogram.ToBytes());
        LatencyHistogram.FromBytes(buffer.AsSpan(0, written)).ToBytes().ShouldBe(histogram.ToBytes());
    }
}
