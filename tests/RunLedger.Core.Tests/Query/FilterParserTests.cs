using RunLedger.Core.Query;
using static RunLedger.Core.Tests.Query.FilterAst;

namespace RunLedger.Core.Tests.Query;

public sealed class FilterParserTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   \t\n")]
    public void Parse_NullOrBlank_GivesNull(string? text)
    {
        FilterParser.Parse(text, FilterTarget.Runs).ShouldBeNull();
    }

    [Fact]
    public void Parse_StatusFailed_GivesEnumEquality()
    {
        var node = FilterParser.Parse("status:failed", FilterTarget.Runs);

        node.ShouldBe(new FieldFilter("status", null, CompareOp.Equal, new StringValue("failed", false)));
    }

    [Fact]
    public void Parse_EnumValueInUpperCase_IsCanonicalized()
    {
        Dump(FilterParser.Parse("STATUS:Failed", FilterTarget.Runs)).ShouldBe(Dump(Eq("status", "failed")));
    }

    [Fact]
    public void Parse_Aliases_AreCanonicalized()
    {
        Dump(FilterParser.Parse("cost_usd<1 tokens>5 started_at>-1h user_id:bob", FilterTarget.Runs)).ShouldBe(Dump(And(
            Num("cost", CompareOp.Less, 1),
            Num("total_tokens", CompareOp.Greater, 5),
            F("started", CompareOp.Greater, new RelativeTimeValue(TimeSpan.FromHours(-1))),
            Eq("user", "bob"))));
    }

    [Fact]
    public void Parse_OrBindsLooserThanAnd_GivesOrOfAnds()
    {
        Dump(FilterParser.Parse("a b OR c", FilterTarget.Runs)).ShouldBe(Dump(Or(And(T("a"), T("b")), T("c"))));
    }

    [Fact]
    public void Parse_LowerCaseOr_IsFreeText()
    {
        Dump(FilterParser.Parse("a or b", FilterTarget.Runs)).ShouldBe(Dump(And(T("a"), T("or"), T("b"))));
    }

    [Fact]
    public void Parse_QuotedStarInValue_IsLiteral()
    {
        Dump(FilterParser.Parse("name:\"a*b\"", FilterTarget.Runs)).ShouldBe(Dump(Eq("name", "a*b")));
    }

    [Fact]
    public void Parse_QuotedAndBareSegments_ConcatenateIntoOnePattern()
    {
        Dump(FilterParser.Parse("name:\"weekly report\"*", FilterTarget.Runs)).ShouldBe(Dump(Like("name", "weekly report*")));
    }

    [Fact]
    public void Parse_MetadataNumberVersusQuotedString_DiffersInValueKind()
    {
        Dump(FilterParser.Parse("metadata.n:5", FilterTarget.Runs)).ShouldBe(Dump(Meta("n", new NumberValue(5))));
        Dump(FilterParser.Parse("metadata.n:\"5\"", FilterTarget.Runs)).ShouldBe(Dump(Meta("n", S("5"))));
    }

    [Fact]
    public void Parse_TermPositions_AreZeroBasedOffsets()
    {
        var node = (AndFilter)FilterParser.Parse("status:failed  -model:x", FilterTarget.Runs)!;

        node.Terms[0].Position.ShouldBe(0);
        node.Terms[1].Position.ShouldBe(15);
        ((NotFilter)node.Terms[1]).Term.Position.ShouldBe(16);
    }

    [Fact]
    public void Parse_AbsoluteTimeWithFraction_KeepsTicks()
    {
        var node = (FieldFilter)FilterParser.Parse("started>2026-11-01T08:00:00.1234567Z", FilterTarget.Runs)!;

        ((TimeValue)node.Value).Time.ShouldBe(Utc(2026, 11, 1, 8).AddTicks(1234567));
    }

    [Fact]
    public void Parse_DeepNesting_IsRejectedNotStackOverflow()
    {
        var text = new string('(', 500) + "a" + new string(')', 500);

        Should.Throw<FilterSyntaxException>(() => FilterParser.Parse(text, FilterTarget.Runs));
    }

    [Fact]
    public void Parse_ErrorMessage_NamesColumnAndAllowedValues()
    {
        var error = Should.Throw<FilterSyntaxException>(() => FilterParser.Parse("status:", FilterTarget.Runs));

        error.Message.ShouldBe("column 8: expected a value after 'status:' (one of running, succeeded, failed, timeout, cancelled, partial)");
        error.Position.ShouldBe(7);
        error.Column.ShouldBe(8);
        error.Expected.ShouldBe("one of running, succeeded, failed, timeout, cancelled, partial");
    }

    [Fact]
    public void Parse_MisspelledField_SuggestsCloseMatch()
    {
        var error = Should.Throw<FilterSyntaxException>(() => FilterParser.Parse("modle:gpt-4o", FilterTarget.Runs));

        error.Message.ShouldContain("unknown field 'modle'");
        error.Message.ShouldContain("did you mean 'model'");
        error.Expected.ShouldStartWith("a field name");
    }

    [Fact]
    public void Parse_NumberWhereNumberExpected_ExpectsANumber()
    {
        var error = Should.Throw<FilterSyntaxException>(() => FilterParser.Parse("cost<cheap", FilterTarget.Runs));

        error.Expected.ShouldBe("a number, such as cost<0.01");
        error.Column.ShouldBe(6);
    }

    [Fact]
    public void Parse_FieldOfAnotherTarget_IsUnknown()
    {
        Should.Throw<FilterSyntaxException>(() => FilterParser.Parse("model:x", FilterTarget.Sessions)).Column.ShouldBe(1);
        Should.Throw<FilterSyntaxException>(() => FilterParser.Parse("state:active", FilterTarget.Runs)).Column.ShouldBe(1);
    }

    [Theory]
    [InlineData("status:", 8)]
    [InlineData("status:bogus", 8)]
    [InlineData("modle:gpt-4o", 1)]
    [InlineData("status:failed (model:x", 15)]
    [InlineData("status:failed model:x)", 22)]
    [InlineData("()", 2)]
    [InlineData("status:failed OR", 17)]
    [InlineData("OR status:failed", 1)]
    [InlineData("a OR OR b", 6)]
    [InlineData("AND a", 1)]
    [InlineData("a AND", 6)]
    [InlineData("name:\"abc", 6)]
    [InlineData("\"abc", 1)]
    [InlineData("name:\"a\\nb\"", 8)]
    [InlineData("name:\"a\\", 8)]
    [InlineData("name:\"\"", 6)]
    [InlineData("\"\"", 1)]
    [InlineData("cost<abc", 6)]
    [InlineData("cost<0.01.5", 6)]
    [InlineData("started>5", 9)]
    [InlineData("started>-24x", 9)]
    [InlineData("started>2026-13-01", 9)]
    [InlineData("started:2026-11-01", 8)]
    [InlineData("duration>30", 10)]
    [InlineData("duration>-5s", 10)]
    [InlineData("status<failed", 7)]
    [InlineData("status:fail*", 8)]
    [InlineData("id:not-a-uuid", 4)]
    [InlineData("pinned:maybe", 8)]
    [InlineData("metadata:x", 9)]
    [InlineData("metadata.:x", 10)]
    [InlineData("metadata.n>big", 12)]
    [InlineData("status.x:failed", 7)]
    [InlineData("- status:failed", 2)]
    [InlineData("a -", 4)]
    [InlineData("NOT", 4)]
    [InlineData(":x", 1)]
    [InlineData("status:failed ( ) ", 17)]
    [InlineData("cost<\"0.01\"", 6)]
    public void Parse_Malformed_ThrowsWithColumn(string text, int column)
    {
        var error = Should.Throw<FilterSyntaxException>(() => FilterParser.Parse(text, FilterTarget.Runs));

        error.Column.ShouldBe(column, error.Message);
        error.Message.ShouldStartWith($"column {column}: ");
        error.Expected.ShouldNotBeNullOrWhiteSpace();
    }
    [Theory]
    [InlineData("cost<cheap", "column 6: 'cheap' is not a number; expected a number, such as cost<0.01")]
    [InlineData("started>5", "column 9: '5' is not a time; expected a time, such as -24h, -7d, 2026-11-01 or 2026-11-01T08:00:00Z")]
    [InlineData("status<failed", "column 7: '<' can't compare status (a fixed set of names); use ':' or '!='")]
    [InlineData("status:failed (model:x", "column 15: '(' is never closed; expected ')'")]
    [InlineData("status:failed OR", "column 17: expected a term after 'OR'")]
    [InlineData("name:\"abc", "column 6: this quoted string is never closed; expected a closing '\"'")]
    [InlineData("name:\"a\\nb\"", "column 8: bad escape '\\n' in a quoted string; only \\\" and \\\\ are allowed")]
    public void Parse_DocumentedError_HasDocumentedMessage(string text, string message)
    {
        Should.Throw<FilterSyntaxException>(() => FilterParser.Parse(text, FilterTarget.Runs)).Message.ShouldBe(message);
    }

    [Fact]
    public void Parse_UnknownField_MessageStartsAsDocumented()
    {
        Should.Throw<FilterSyntaxException>(() => FilterParser.Parse("modle:gpt-4o", FilterTarget.Runs)).Message
            .ShouldStartWith("column 1: unknown field 'modle' for runs; did you mean 'model'? known fields: id, session, parent, ");
    }
}
