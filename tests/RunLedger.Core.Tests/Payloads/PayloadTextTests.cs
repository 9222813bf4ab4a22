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

    [Fact]
    public void ExtractSearchText_RoleAfterContent_IsStillAChatMessage()
    {
        var json = """[{"content":[{"type":"text","text":"late role"}],"name":"x","role":"user"},{"content":"no role here","type":"plain"}]""";

        PayloadText.ExtractSearchText(json, 1000).ShouldBe("late role\nno role here\nplain");
    }

    [Fact]
    public void ExtractSearchText_EscapedRoleKey_AndRepeatedContent_MatchTheParsedDocument()
    {
        // Property names are compared unescaped, and a repeated property means its last value.
        var json = """{"r\u006fle":"user","content":"first","content":"second","extra":"dropped"}""";

        PayloadText.ExtractSearchText(json, 1000).ShouldBe("second");
    }

    [Fact]
    public void ExtractSearchText_RoleThatIsNotAString_IsAnOrdinaryObject()
    {
        PayloadText.ExtractSearchText("""{"role":7,"content":"a","note":"b"}""", 1000).ShouldBe("a\nb");
    }

    [Fact]
    public void ExtractSearchText_RandomChatLikeJson_MatchesATreeWalkOfTheParsedDocument()
    {
        var random = new Random(31);
        for (var i = 0; i < 5_000; i++)
        {
            var json = RandomChatJson(random, 0);
            foreach (var maxChars in new[] { 1, 7, 40, 100_000 })
            {
                var expected = TreeWalkSearchText.Extract(json, maxChars);

                PayloadText.ExtractSearchText(json, maxChars).ShouldBe(expected, json);
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(50)]
    public void ExtractSearchText_LongValuesCutShort_MatchATreeWalkOfTheParsedDocument(int maxChars)
    {
        var long1 = string.Concat(Enumerable.Repeat("é😀a", 100_000));
        var json = JsonSerializer.Serialize(new[] { "x", long1, "tail" }, new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

        PayloadText.ExtractSearchText(json, maxChars).ShouldBe(TreeWalkSearchText.Extract(json, maxChars));
    }

    [Fact]
    public void RunSearchText_FromUtf8Bytes_IsTheSameAsFromText()
    {
        var random = new Random(5);
        for (var i = 0; i < 1_000; i++)
        {
            var input = random.Next(5) == 0 ? null : RandomChatJson(random, 0);
            var output = random.Next(5) == 0 ? null : RandomChatJson(random, 0);
            var error = random.Next(3) == 0 ? "boom 😀 at line " + i.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
            var maxChars = random.Next(4) == 0 ? 5 : 10_000;

            var fromText = PayloadText.RunSearchText(input, output, error, maxChars);
            var fromBytes = PayloadText.RunSearchTextUtf8(
                input is null ? null : Encoding.UTF8.GetBytes(input), output is null ? null : Encoding.UTF8.GetBytes(output), error, maxChars);

            fromBytes.ShouldBe(fromText, input + " / " + output);
        }
    }

    private static readonly string[] ChatKeys = ["role", "content", "type", "text", "name", "r\\u006fle", "cont\\u0065nt"];

    private static readonly string[] ChatStrings = ["user", "a b", "", "tab\\tnew\\nline", "quote \\\" and é", "\\u00e9t\\u00e9", "\\ud800 lone", "emoji 😀😀", "<html>&amp;"];

    private static string RandomChatJson(Random random, int depth)
    {
        switch (depth > 3 ? random.Next(3) : random.Next(7))
        {
            case 0:
                return random.Next(2) == 0 ? "12.5" : "false";
            case 1:
            case 2:
                return "\"" + ChatStrings[random.Next(ChatStrings.Length)] + "\"";
            case 3:
                var items = new StringBuilder("[");
                for (var i = random.Next(0, 4); i > 0; i--)
                {
                    items.Append(RandomChatJson(random, depth + 1)).Append(i > 1 ? "," : "");
                }

                return items.Append(']').ToString();
            default:
                var members = new StringBuilder("{");
                for (var i = random.Next(0, 5); i > 0; i--)
                {
                    members.Append('"').Append(ChatKeys[random.Next(ChatKeys.Length)]).Append("\":").Append(RandomChatJson(random, depth + 1)).Append(i > 1 ? "," : "");
                }

                return members.Append('}').ToString();
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
