using System.Text;
using RunLedger.Core.Payloads;

namespace RunLedger.Core.Tests.Payloads;

public sealed class StoredBodyTests
{
    [Fact]
    public void Read_StoredBody_ComesBackWithItsInfo()
    {
        var encoded = PayloadCodec.Encode("{\"a\":[1,2,3]}", new PayloadOptions());
        var (body, info) = StoredBody.Read(encoded.Encoding, encoded.Data, 13, "abc", truncated: false);
        body!.Text.ShouldBe("{\"a\":[1,2,3]}");
        info.ShouldBe(new Model.PayloadInfo(13, "abc", false));
    }

    [Fact]
    public void Read_CompressedBody_ComesBack()
    {
        var text = "\"" + string.Concat(Enumerable.Repeat("compress me ", 2000)) + "\"";
        var encoded = PayloadCodec.Encode(text, new PayloadOptions { MaxBodyBytes = 1_000_000 });
        encoded.Encoding.ShouldBe(PayloadEncoding.Brotli);
        StoredBody.Read(encoded.Encoding, encoded.Data, text.Length, "h", false).Body!.Text.ShouldBe(text);
    }

    [Theory]
    [InlineData(99, "{}", "stored body could not be decoded: Unknown payload encoding 99.")]
    [InlineData(1, "not brotli at all", "stored body could not be decoded: ")]
    [InlineData(0, "{\"a\":1", "stored body could not be decoded: it is not valid JSON.")]
    [InlineData(0, "{\"a\":1} {}", "stored body could not be decoded: it is not valid JSON.")]
    [InlineData(0, "", "stored body could not be decoded: it is not valid JSON.")]
    public void Read_DamagedBody_IsReportedNotThrown(int encoding, string stored, string message)
    {
        var (body, info) = StoredBody.Read((PayloadEncoding)encoding, Encoding.UTF8.GetBytes(stored), 42, "h", truncated: true);
        body.ShouldBeNull();
        info.Unreadable.ShouldNotBeNull().ShouldStartWith(message);
        info.OriginalBytes.ShouldBe(42);
        info.Truncated.ShouldBeTrue();
    }

    [Fact]
    public void Read_InvalidUtf8_IsReported()
    {
        var (body, info) = StoredBody.Read(PayloadEncoding.Utf8, [0x22, 0xC3, 0x28, 0x22], 4, "h", false);
        body.ShouldBeNull();
        info.Unreadable.ShouldBe("stored body could not be decoded: Stored payload is not valid UTF-8.");
    }
}
