using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using RunLedger.Core.Payloads;

namespace RunLedger.Core.Tests.Payloads;

public sealed class PayloadCodecTests
{
    private static readonly PayloadOptions Defaults = new();

    [Fact]
    public void Encode_Hash_IsSha256OfOriginalUtf8()
    {
        var small = "\"héllo wörld\"";
        var large = JsonSerializer.Serialize(new string('x', 2 * 1024 * 1024));

        foreach (var text in new[] { small, large })
        {
            var encoded = PayloadCodec.Encode(text, Defaults);
            encoded.Hash.ShouldBe(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
            encoded.Hash.Length.ShouldBe(32);
            encoded.OriginalSize.ShouldBe(Encoding.UTF8.GetByteCount(text));
            encoded.HashHex.ShouldBe(Convert.ToHexStringLower(encoded.Hash));
        }
    }

    [Fact]
    public void Encode_SameText_GivesSameHashAndBytes()
    {
        var text = Prompt(20_000);
        var first = PayloadCodec.Encode(text, Defaults);
        var second = PayloadCodec.Encode(new string(text.AsSpan()), Defaults);

        second.Hash.ShouldBe(first.Hash);
        second.Data.ShouldBe(first.Data);
        second.Encoding.ShouldBe(first.Encoding);
        PayloadCodec.Encode(text + " ", Defaults).Hash.ShouldNotBe(first.Hash);
    }

    [Fact]
    public void EncodeDecode_RandomUnicodeStrings_RoundTrip()
    {
        var random = new Random(77);
        var forceCompression = new PayloadOptions { CompressionThresholdBytes = 0 };
        for (var i = 0; i < 400; i++)
        {
            var value = RandomUnicode(random, random.Next(0, i % 10 == 0 ? 20_000 : 600));
            var json = JsonSerializer.Serialize(value);
            foreach (var text in new[] { value, json, $"[{json},{{\"content\":{json},\"n\":{i}}}]" })
            {
                if (text.Length == 0)
                {
                    continue;
                }

                foreach (var options in new[] { Defaults, forceCompression })
                {
                    var encoded = PayloadCodec.Encode(text, options);
                    encoded.Truncated.ShouldBeFalse();
                    PayloadCodec.Decode(encoded.Encoding, encoded.Data).ShouldBe(text);
                }
            }
        }
    }

    [Fact]
    public void Encode_RepetitivePrompt_IsCompressed()
    {
        var text = JsonSerializer.Serialize(Prompt(100 * 1024));

        var encoded = PayloadCodec.Encode(text, Defaults);

        encoded.Encoding.ShouldBe(PayloadEncoding.Brotli);
        encoded.Data.Length.ShouldBeLessThan(text.Length / 10);
        PayloadCodec.Decode(encoded.Encoding, encoded.Data).ShouldBe(text);
    }

    [Fact]
    public void Encode_BelowThreshold_IsStoredPlain()
    {
        var text = JsonSerializer.Serialize(new string('a', 200));

        var encoded = PayloadCodec.Encode(text, Defaults);

        encoded.Encoding.ShouldBe(PayloadEncoding.Utf8);
        encoded.Data.ShouldBe(Encoding.UTF8.GetBytes(text));
    }

    [Fact]
    public void Encode_WhenCompressionDoesNotShrink_FallsBackToPlain()
    {
        var options = new PayloadOptions { CompressionThresholdBytes = 0 };

        foreach (var text in new[] { "1", "\"ab\"", "[true,false,null]" })
        {
            var encoded = PayloadCodec.Encode(text, options);
            encoded.Encoding.ShouldBe(PayloadEncoding.Utf8);
            PayloadCodec.Decode(encoded.Encoding, encoded.Data).ShouldBe(text);
        }
    }

    [Fact]
    public void Encode_OverLimit_WritesParseableMarker()
    {
        // Three-byte characters, so the 4 KiB head cut falls inside one and must back off.
        var text = JsonSerializer.Serialize(string.Concat(Enumerable.Repeat("price €5, ", 200_000)),
            new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        var originalBytes = Encoding.UTF8.GetBytes(text);
        originalBytes.Length.ShouldBeGreaterThan(Defaults.MaxBodyBytes);

        var encoded = PayloadCodec.Encode(text, Defaults);
        var marker = PayloadCodec.Decode(encoded.Encoding, encoded.Data);

        encoded.Truncated.ShouldBeTrue();
        encoded.OriginalSize.ShouldBe(originalBytes.Length);
        using var document = JsonDocument.Parse(marker);
        var root = document.RootElement;
        root.GetProperty("$truncated").GetBoolean().ShouldBeTrue();
        root.GetProperty("originalBytes").GetInt64().ShouldBe(originalBytes.Length);
        root.GetProperty("sha256").GetString().ShouldBe(Convert.ToHexStringLower(SHA256.HashData(originalBytes)));
        var head = root.GetProperty("head").GetString()!;
        text.ShouldStartWith(head);
        Encoding.UTF8.GetByteCount(head).ShouldBeLessThanOrEqualTo(Defaults.TruncatedHeadBytes);
        Encoding.UTF8.GetByteCount(head).ShouldBeGreaterThan(Defaults.TruncatedHeadBytes - 4);
        PayloadCodec.IsTruncationMarker(marker).ShouldBeTrue();
        TruncationMarker.TryParse(marker, out var parsed).ShouldBeTrue();
        parsed!.OriginalBytes.ShouldBe(originalBytes.Length);
        parsed.Head.ShouldBe(head);
    }

    [Fact]
    public void Encode_HeadCut_NeverSplitsASurrogatePair()
    {
        var options = new PayloadOptions { MaxBodyBytes = 100, TruncatedHeadBytes = 11 };
        var text = "\"" + string.Concat(Enumerable.Repeat("😀", 100)) + "\"";

        var encoded = PayloadCodec.Encode(text, options);
        TruncationMarker.TryParse(PayloadCodec.Decode(encoded.Encoding, encoded.Data), out var marker).ShouldBeTrue();

        marker!.Head.ShouldBe("\"😀😀");
    }

    [Fact]
    public void Encode_OneByteOverLimit_IsTruncated()
    {
        var options = new PayloadOptions { MaxBodyBytes = 1000, TruncatedHeadBytes = 100 };
        var text = JsonSerializer.Serialize(new string('y', 999));
        Encoding.UTF8.GetByteCount(text).ShouldBe(1001);

        var encoded = PayloadCodec.Encode(text, options);

        encoded.Truncated.ShouldBeTrue();
        encoded.OriginalSize.ShouldBe(1001);
        TruncationMarker.TryParse(PayloadCodec.Decode(encoded.Encoding, encoded.Data), out var marker).ShouldBeTrue();
        marker!.OriginalBytes.ShouldBe(1001);
        marker.Head.ShouldBe(text[..100]);
    }

    [Fact]
    public void Encode_ExactlyAtDefaultLimit_IsNotTruncated()
    {
        var text = JsonSerializer.Serialize(new string('z', Defaults.MaxBodyBytes - 2));
        Encoding.UTF8.GetByteCount(text).ShouldBe(Defaults.MaxBodyBytes);

        var encoded = PayloadCodec.Encode(text, Defaults);

        encoded.Truncated.ShouldBeFalse();
        PayloadCodec.Decode(encoded.Encoding, encoded.Data).ShouldBe(text);
        PayloadCodec.Encode(text[..^1] + "z\"", Defaults).Truncated.ShouldBeTrue();
    }

    [Fact]
    public void Decode_CorruptBrotli_ThrowsInvalidDataException()
    {
        var encoded = PayloadCodec.Encode(JsonSerializer.Serialize(Prompt(50_000)), Defaults);
        encoded.Encoding.ShouldBe(PayloadEncoding.Brotli);

        Should.Throw<InvalidDataException>(() => PayloadCodec.Decode(PayloadEncoding.Brotli, encoded.Data.AsSpan(0, encoded.Data.Length / 2)))
            .Message.ShouldContain("Brotli");
        Should.Throw<InvalidDataException>(() => PayloadCodec.Decode(PayloadEncoding.Brotli, ReadOnlySpan<byte>.Empty));
        Should.Throw<InvalidDataException>(() => PayloadCodec.Decode(PayloadEncoding.Brotli, [.. encoded.Data, 1, 2, 3]));
        Should.Throw<InvalidDataException>(() => PayloadCodec.Decode(PayloadEncoding.Brotli, "{\"not\":\"brotli\"}"u8));
    }

    [Fact]
    public void Decode_RandomBytes_OnlyEverThrowsInvalidDataException()
    {
        var random = new Random(8);
        var valid = PayloadCodec.Encode(JsonSerializer.Serialize(Prompt(5_000)), Defaults).Data;
        for (var i = 0; i < 5_000; i++)
        {
            byte[] data;
            if (i % 2 == 0)
            {
                data = new byte[random.Next(0, 64)];
                random.NextBytes(data);
            }
            else
            {
                data = (byte[])valid.Clone();
                data[random.Next(data.Length)] ^= (byte)random.Next(1, 256);
            }

            try
            {
                PayloadCodec.Decode(PayloadEncoding.Brotli, data);
            }
            catch (InvalidDataException)
            {
            }
        }
    }

    [Fact]
    public void Decode_InvalidUtf8OrUnknownEncoding_ThrowsInvalidDataException()
    {
        Should.Throw<InvalidDataException>(() => PayloadCodec.Decode(PayloadEncoding.Utf8, [0x22, 0xC3, 0x28, 0x22]));
        Should.Throw<InvalidDataException>(() => PayloadCodec.Decode((PayloadEncoding)7, "\"a\""u8));
    }

    [Fact]
    public void IsTruncationMarker_OrdinaryJson_IsFalse()
    {
        PayloadCodec.IsTruncationMarker("{\"a\":1}").ShouldBeFalse();
        PayloadCodec.IsTruncationMarker("{\"$truncated\":true}").ShouldBeFalse();
        PayloadCodec.IsTruncationMarker("{\"$truncated\":true,").ShouldBeFalse();
        PayloadCodec.IsTruncationMarker(null).ShouldBeFalse();
    }

    [Fact]
    public void Options_Invalid_ReportsEveryProblemAndEncodeRejectsThem()
    {
        var options = new PayloadOptions
        {
            MaxBodyBytes = 0,
            TruncatedHeadBytes = -1,
            CompressionThresholdBytes = -5,
            CompressionQuality = 12,
        };

        options.Validate().Count.ShouldBe(4);
        new PayloadOptions().Validate().ShouldBeEmpty();
        Should.Throw<ArgumentException>(() => PayloadCodec.Encode("1", options));
    }

    private static string Prompt(int chars)
    {
        const string Paragraph = "You are a careful support assistant for Acme. Answer in a friendly tone, cite the refund policy, "
            + "and never promise delivery dates. If the customer is angry, apologize once and move on to a concrete next step. ";
        var builder = new StringBuilder(chars + Paragraph.Length);
        var ticket = 0;
        while (builder.Length < chars)
        {
            builder.Append(Paragraph).Append("Ticket ").Append(ticket++ % 50).Append(". ");
        }

        return builder.ToString(0, chars);
    }

    private static string RandomUnicode(Random random, int length)
    {
        var builder = new StringBuilder(length * 2);
        for (var i = 0; i < length; i++)
        {
            switch (random.Next(7))
            {
                case 0:
                    builder.Append(char.ConvertFromUtf32(random.Next(0x1F300, 0x1FAFF)));
                    break;
                case 1:
                    builder.Append((char)random.Next(0x0300, 0x036F));
                    break;
                case 2:
                    builder.Append((char)random.Next(0x4E00, 0x9FFF));
                    break;
                case 3:
                    builder.Append((char)random.Next(0x00, 0x20));
                    break;
                case 4:
                    builder.Append("\"\\/<>&'"[random.Next(7)]);
                    break;
                case 5:
                    builder.Append(char.ConvertFromUtf32(random.Next(0x10000, 0x10FFFF)));
                    break;
                default:
                    builder.Append((char)random.Next(0x20, 0x7F));
                    break;
            }
        }

        return builder.ToString();
    }
}
