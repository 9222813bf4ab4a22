using RunLedger.Core.Ingest;

namespace RunLedger.Core.Tests.Ingest;

public sealed class IngestValidatorTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(new[] { "prod", "eval", "prod", "nightly", "eval" }, new[] { "prod", "eval", "nightly" })]
    [InlineData(new[] { "a", "A", "a" }, new[] { "a", "A" })]
    [InlineData(new[] { "x", "y" }, new[] { "x", "y" })]
    [InlineData(new[] { "same", "same", "same" }, new[] { "same" })]
    public void RunTags_KeepTheFirstOfEachAndTheirOrder(string[] sent, string[] kept)
    {
        var validated = Validate(new IngestRequest { Runs = [Run(tags: [.. sent])] });

        validated.Rejected.ShouldBeEmpty();
        validated.Batch.Runs.ShouldHaveSingleItem().Tags.ShouldBe(kept);
    }

    [Fact]
    public void RunTags_AnEmptyListStaysEmpty()
    {
        var validated = Validate(new IngestRequest { Runs = [Run(tags: [])] });

        validated.Batch.Runs.ShouldHaveSingleItem().Tags.ShouldBe([]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void RunTags_ABlankTagRejectsTheRun(string blank)
    {
        var validated = Validate(new IngestRequest { Runs = [Run(tags: ["ok", blank]), Run(tags: ["ok"])] });

        validated.Rejected.ShouldHaveSingleItem().Error.ShouldBe("tags: a tag cannot be empty.");
        validated.Batch.Runs.ShouldHaveSingleItem();
    }

    [Fact]
    public void RunTags_ATagOverTheLengthLimitRefusesTheRequestNamingIt()
    {
        var options = new IngestOptions();
        var request = new IngestRequest { Runs = [Run(tags: ["ok", new string('t', options.MaxShortFieldLength + 1)])] };

        var refusal = Should.Throw<IngestRequestException>(() => new IngestValidator(options).Validate(request, 1, "test", Now));

        refusal.Field.ShouldBe("$.runs[0].tags[1]");
    }

    [Theory]
    [InlineData("heartbeat", true)]
    [InlineData("user_feedback.v2:ok/A-9", true)]
    [InlineData("has space", false)]
    [InlineData("café", false)]
    [InlineData("semi;colon", false)]
    public void EventType_OnlyAsciiLettersDigitsAndFewMarks(string type, bool accepted)
    {
        var validated = Validate(new IngestRequest { Events = [new EventPayload { Type = type, Time = Now }] });

        if (accepted)
        {
            validated.Rejected.ShouldBeEmpty();
            validated.Batch.Events.ShouldHaveSingleItem().Type.ShouldBe(type);
        }
        else
        {
            validated.Rejected.ShouldHaveSingleItem().Error.ShouldBe($"type: '{type}' may only hold letters, digits and _ . - : /");
        }
    }

    [Theory]
    [InlineData("nightly-2026-11-21", null)]
    [InlineData("with\ttab", "sessionId: cannot hold control characters.")]
    [InlineData("bell\u0007", "sessionId: cannot hold control characters.")]
    [InlineData("  ", "sessionId: cannot be empty.")]
    public void RunSessionId_NoControlCharacters(string sessionId, string? error)
    {
        var validated = Validate(new IngestRequest { Runs = [Run(sessionId: sessionId)] });

        if (error is null)
        {
            validated.Rejected.ShouldBeEmpty();
        }
        else
        {
            validated.Rejected.ShouldHaveSingleItem().Error.ShouldBe(error);
        }
    }

    private static ValidatedRequest Validate(IngestRequest request) =>
        new IngestValidator(new IngestOptions()).Validate(request, 1, "test", Now);

    private static RunPayload Run(List<string>? tags = null, string? sessionId = null) => new()
    {
        Id = Guid.CreateVersion7().ToString(),
        Name = "step",
        StartedAt = Now.AddMinutes(-1),
        Tags = tags,
        SessionId = sessionId,
    };
}
