using System.Text;
using System.Text.Json;
using RunLedger.Core.Payloads;

namespace RunLedger.Core.Tests.Payloads;

public sealed class PayloadTextTests
{
    [Fact]
    public void ExtractSearchText_StringValue_IsTheString()
    {
        PayloadText.ExtractSearchText("\"refund policy \\u00e9\"", 100).ShouldBe("refund policy é");
    }

    [Fact]
    public void ExtractSearchText_ChatMessages_KeepsOnlyContent()
    {
        var json = """[{"role":"system","content":"Be brief."},{"role":"user","name":"ann","content":"Where is my order?"},{"role":"assistant","content":[{"type":"text","text":"It ships today."}]}]""";

        PayloadText.ExtractSearchText(json, 1000).ShouldBe("Be brief.\nWhere is my order?\nIt ships today.");
    }

    [Fact]
    public void ExtractSearchText_Object_SkipsKeysNumbersAndBooleans()
    {
        var json = """{"query":"invoice 42","k":8,"exact":true,"nothing":null,"filters":{"lang":"de","tags":["billing","urgent"]}}""";

        PayloadText.ExtractSearchText(json, 1000).ShouldBe("invoice 42\nde\nbilling\nurgent");
    }

    [Fact]
    public void ExtractSearchText_Scalars_AreEmpty()
    {
        PayloadText.ExtractSearchText("42", 100).ShouldBe("");
        PayloadText.ExtractSearchText("true", 100).ShouldBe("");
        PayloadText.ExtractSearchText("null", 100).ShouldBe("");
    }

    [Fact]
    public void ExtractSearchText_StopsAtMaxChars()
    {
        var json = JsonSerializer.Serialize(Enumerable.Range(0, 10_000).Select(i => "word" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());

        var text = PayloadText.ExtractSearchText(json, 50);

        text.Length.ShouldBe(50);
        text.ShouldStartWith("word0\nword1\n");
        PayloadText.ExtractSearchText(json, 0).ShouldBe("");
    }

    [Fact]
    public void ExtractSearchText_CutNeverLeavesHalfASurrogatePair()
    {
        PayloadText.ExtractSearchText("\"ab😀\"", 3).ShouldBe("ab");
    }

    [Fact]
    public void ExtractSearchText_TruncationMarker_GivesHead()
    {
        var options = new PayloadOptions { MaxBodyBytes = 300, TruncatedHeadBytes = 40 };
        var encoded = PayloadCodec.Encode(JsonSerializer.Serialize(new string('q', 500)), options);
        var marker = PayloadCodec.Decode(encoded.Encoding, encoded.Data);

        PayloadText.ExtractSearchText(marker, 1000).ShouldBe("\"" + new string('q', 39));
    }

    [Theory]
    [InlineData("\"\\ud800 lone\"")]
    [InlineData("{\"a\":")]
    [InlineData("not json at all")]
    [InlineData("[1,2,]")]
    public void ExtractSearchText_OddInput_DoesNotThrow(string json)
    {
        Should.NotThrow(() => PayloadText.ExtractSearchText(json, 100));
    }

    [Fact]
    public void ExtractSearchText_DeeplyNested_DoesNotThrow()
    {
        var json = new string('[', 5000) + "\"deep\"" + new string(']', 5000);

        PayloadText.ExtractSearchText(json, 100).ShouldBe("deep");
    }

    [Fact]
    public void ExtractSearchText_RandomJson_NeverThrowsAndFindsEveryStringInOrder()
    {
        var random = new Random(12);
        for (var i = 0; i < 2_000; i++)
        {
            var strings = new List<string>();
            var json = RandomJson(random, 0, strings);

            var text = PayloadText.ExtractSearchText(json, 100_000);

            text.ShouldBe(string.Join("\n", strings.Where(s => s.Length > 0)));
        }
    }

    private static string RandomJson(Random random, int depth, List<string> strings)
    {
        switch (depth > 4 ? random.Next(3) : random.Next(6))
        {
            case 0:
                return random.Next(-1000, 1000).ToString(System.Globalization.CultureInfo.InvariantCulture);
            case 1:
                return random.Next(2) == 0 ? "true" : "null";
            case 2:
            case 3:
                var value = new string((char)random.Next('a', 'z' + 1), random.Next(0, 4)) + (random.Next(4) == 0 ? "é😀" : "");
                strings.Add(value);
                return JsonSerializer.Serialize(value);
            case 4:
                var items = new StringBuilder("[");
                for (var i = random.Next(0, 4); i > 0; i--)
                {
                    items.Append(RandomJson(random, depth + 1, strings)).Append(i > 1 ? "," : "");
                }

                return items.Append(']').ToString();
            default:
                var members = new StringBuilder("{");
                for (var i = random.Next(0, 4); i > 0; i--)
                {
                    members.Append("\"k").Append(i).Append("\":").Append(RandomJson(random, depth + 1, strings)).Append(i > 1 ? "," : "");
                }

                return members.Append('}').ToString();
        }
    }
}
