using RunLedger.Core.Ingest;
using RunLedger.Core.Model;

namespace RunLedger.Core.Tests.Ingest;

public sealed class IngestValidatorMetadataTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("{\"repository\":")]
    [InlineData("{not json}")]
    [InlineData("{\"a\":1} trailing")]
    public void MetadataMadeFromTextThatIsNotJson_IsRejectedWithTheReason(string metadata)
    {
        var request = new IngestRequest
        {
            Runs = [Run(metadata), Run("{\"repository\":\"acme/web\"}")],
            Sessions = [new SessionPayload { Id = "s1", Metadata = new RawJson(metadata) }],
        };

        var validated = new IngestValidator(new IngestOptions()).Validate(request, 1, "test", Now);

        validated.Rejected.Select(r => (r.Kind, r.Index)).ShouldBe([("session", 0), ("run", 0)], ignoreOrder: true);
        validated.Rejected.ShouldAllBe(r => r.Error.Contains("metadata: must be a JSON object"));
        validated.Batch.Runs.ShouldHaveSingleItem();
    }

    [Fact]
    public void RawJson_IsWellFormed_ChecksTextButTrustsParsedValues()
    {
        new RawJson("{\"a\":[1,2]}").IsWellFormed().ShouldBeTrue();
        new RawJson("{\"a\":[1,2}").IsWellFormed().ShouldBeFalse();
        System.Text.Json.JsonSerializer.Deserialize<RawJson>("{\"a\": [1, 2]}")!.IsWellFormed().ShouldBeTrue();
    }

    private static RunPayload Run(string metadata) => new()
    {
        Id = Guid.CreateVersion7().ToString(),
        Name = "step",
        StartedAt = Now.AddMinutes(-1),
        Metadata = new RawJson(metadata),
    };
}
