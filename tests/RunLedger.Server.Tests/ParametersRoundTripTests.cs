using static RunLedger.Server.Tests.RunBuilder;

namespace RunLedger.Server.Tests;

/// <summary>Parameters and metadata bound from the request's UTF-8 read back through the API as sent.</summary>
public sealed class ParametersRoundTripTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 21, 23, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task ParametersAndMetadata_AsSent_ReadBackByteForByte()
    {
        await using var server = await LedgerTestServer.StartAsync();
        const string Parameters = "{ \"temperature\" : 0.70 ,\n \"big\" : 123456789012345678901234567890, \"e\" : \"\\u00e9\\ud83d\\ude00\\/\", \"raw\":\"caf\u00e9 \U0001F600\" }";
        const string Metadata = "{\"nested\" :{ \"deep\":[1 , {\"x\":\"\\\"q\\\"\"}]}, \"repository\":\"acme/web\"}";
        var ids = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            ids.Add(NewId());
        }

        await server.Client.IngestOkAsync(Body(ids.Select(id => Run(id, T0, "\"parameters\":" + Parameters + ",\"metadata\":" + Metadata + ",\"input\":\"hello\""))));
        foreach (var id in ids)
        {
            var run = (await server.Client.GetJsonAsync($"/v1/runs/{id}")).GetProperty("run");
            run.GetProperty("parameters").GetRawText().ShouldBe(Parameters);
            run.GetProperty("metadata").GetRawText().ShouldBe(Metadata);
        }

        (await server.Client.AllRunsAsync("metadata.repository:\"acme/web\"")).Count.ShouldBe(20);
    }
}
