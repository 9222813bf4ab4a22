using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using static RunLedger.Server.Tests.RunBuilder;

namespace RunLedger.Server.Tests;

public sealed class IngestTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 21, 23, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task RunDetail_DamagedBody_Answers200WithTheRestAndSaysTheBodyIsUnreadable()
    {
        await using var server = await LedgerTestServer.StartAsync();
        var id = NewId();
        await server.Client.IngestOkAsync(Body([
            Run(id, T0, "\"name\":\"damaged\",\"status\":\"failed\",\"input\":\"rotten\",\"output\":\"kept\",\"usage\":{\"inputTokens\":7},\"costUsd\":0.25,\"error\":{\"message\":\"boom\"}"),
        ]));
        LedgerDatabase.Execute(server, "UPDATE payloads SET encoding = 99 WHERE id = (SELECT input_payload FROM runs WHERE name = 'damaged')").ShouldBe(1);

        var run = (await server.Client.GetJsonAsync($"/v1/runs/{id}")).GetProperty("run");
        run.TryGetProperty("input", out _).ShouldBeFalse();
        run.GetProperty("inputInfo").GetProperty("unreadable").GetString().ShouldBe("stored body could not be decoded: Unknown payload encoding 99.");
        run.GetProperty("output").GetString().ShouldBe("kept");
        run.GetProperty("outputInfo").TryGetProperty("unreadable", out _).ShouldBeFalse();
        run.GetProperty("usage").GetProperty("inputTokens").GetInt64().ShouldBe(7);
        run.GetProperty("costUsd").GetDecimal().ShouldBe(0.25m);
        run.GetProperty("error").GetProperty("message").GetString().ShouldBe("boom");
    }

    [Fact]
    public async Task Ingest_RunningThenCompleted_UpdatesOneRunKeepsInputAndKeepsSessionTotals()
    {
        await using var server = await LedgerTestServer.StartAsync();
        var id = NewId();
        var other = NewId();
        await server.Client.IngestOkAsync(Body([
            Run(id, T0, "\"kind\":\"llm\",\"name\":\"summarize\",\"status\":\"running\",\"sessionId\":\"night\",\"input\":[{\"role\":\"user\",\"content\":\"hi\"}]"),
            Run(other, T0.AddSeconds(1), "\"sessionId\":\"night\",\"status\":\"failed\",\"endedAt\":\"2026-11-21T23:00:02Z\",\"usage\":{\"inputTokens\":7,\"outputTokens\":3},\"costUsd\":0.25"),
        ]));
        await server.Client.IngestOkAsync($$"""{"runs":[{"id":"{{id}}","status":"succeeded","endedAt":"2026-11-21T23:00:02.5Z","output":"done","usage":{"inputTokens":100,"outputTokens":20},"costUsd":0.001}]}""");

        var runs = await server.Client.AllRunsAsync();
        runs.Count.ShouldBe(2);
        var run = (await server.Client.GetJsonAsync($"/v1/runs/{id}")).GetProperty("run");
        run.GetProperty("status").GetString().ShouldBe("succeeded");
        run.GetProperty("kind").GetString().ShouldBe("llm");
        run.GetProperty("name").GetString().ShouldBe("summarize");
        run.GetProperty("input").GetRawText().ShouldBe("""[{"role":"user","content":"hi"}]""");
        run.GetProperty("output").GetString().ShouldBe("done");
        run.GetProperty("durationMs").GetDouble().ShouldBe(2500);
        run.GetProperty("usage").GetProperty("totalTokens").GetInt64().ShouldBe(120);
        run.GetProperty("costUsd").GetDecimal().ShouldBe(0.001m);

        var session = (await server.Client.GetJsonAsync("/v1/sessions/night")).GetProperty("session");
        session.GetProperty("runCount").GetInt64().ShouldBe(2);
        session.GetProperty("failedCount").GetInt64().ShouldBe(1);
        session.GetProperty("inputTokens").GetInt64().ShouldBe(107);
        session.GetProperty("outputTokens").GetInt64().ShouldBe(23);
        session.GetProperty("costUsd").GetDecimal().ShouldBe(0.251m);
        LedgerDatabase.Count(server, "runs").ShouldBe(2);
    }

    [Fact]
    public async Task Ingest_SameRunIdTwice_UpdatesOneRun()
    {
        await using var server = await LedgerTestServer.StartAsync();
        var id = NewId();
        var body = Body([Run(id, T0, "\"status\":\"succeeded\",\"endedAt\":\"2026-11-21T23:00:01Z\",\"name\":\"a\",\"sessionId\":\"s\",\"usage\":{\"inputTokens\":5}")]);
        await server.Client.IngestOkAsync(body);
        await server.Client.IngestOkAsync(body);

        (await server.Client.AllRunsAsync()).Count.ShouldBe(1);
        LedgerDatabase.Count(server, "runs").ShouldBe(1);
        var session = (await server.Client.GetJsonAsync("/v1/sessions/s")).GetProperty("session");
        session.GetProperty("runCount").GetInt64().ShouldBe(1);
        session.GetProperty("inputTokens").GetInt64().ShouldBe(5);
    }

    [Theory]
    [InlineData("", "custom", "running")]
    [InlineData("\"endedAt\":\"2026-11-21T23:00:01Z\"", "custom", "succeeded")]
    [InlineData("\"endedAt\":\"2026-11-21T23:00:01Z\",\"error\":{\"type\":\"Timeout\",\"message\":\"too slow\"}", "custom", "failed")]
    [InlineData("\"kind\":\"tool\",\"status\":\"cancelled\"", "tool", "cancelled")]
    public async Task Ingest_KindAndStatusLeftOut_AreInferred(string fields, string kind, string status)
    {
        await using var server = await LedgerTestServer.StartAsync();
        var id = NewId();
        await server.Client.IngestOkAsync(Body([Run(id, T0, fields)]));

        var run = (await server.Client.GetJsonAsync($"/v1/runs/{id}")).GetProperty("run");
        run.GetProperty("kind").GetString().ShouldBe(kind);
        run.GetProperty("status").GetString().ShouldBe(status);
    }

    [Fact]
    public async Task Ingest_OneUnknownStatusAmongGoodRuns_Answers207AndStoresTheGoodOnes()
    {
        await using var server = await LedgerTestServer.StartAsync();
        var good1 = NewId();
        var bad = NewId();
        var good2 = NewId();
        var (status, answer) = await server.Client.IngestAsync(Body([
            Run(good1, T0), Run(bad, T0, "\"status\":\"done\""), Run(good2, T0, "\"status\":\"succeeded\""),
        ]));

        status.ShouldBe(HttpStatusCode.MultiStatus, answer.ToString());
        answer.GetProperty("accepted").GetInt32().ShouldBe(2);
        var rejected = answer.GetProperty("rejected").EnumerateArray().ShouldHaveSingleItem();
        rejected.GetProperty("kind").GetString().ShouldBe("run");
        rejected.GetProperty("index").GetInt32().ShouldBe(1);
        rejected.GetProperty("id").GetString().ShouldBe(bad);
        rejected.GetProperty("error").GetString()!.ShouldContain("done");
        var stored = (await server.Client.AllRunsAsync()).Select(r => r.GetProperty("id").GetString()).ToList();
        stored.ShouldBe([good1, good2], ignoreOrder: true);
    }

    public static TheoryData<string, string, string?, HttpStatusCode, string?> WholeRequestErrors => new()
    {
        { "malformed JSON", "{\"runs\":[GOOD, {\"id\": }]}", null, HttpStatusCode.BadRequest, null },
        { "cost as text", "{\"runs\":[GOOD, {\"id\":\"ID\",\"costUsd\":\"abc\"}]}", null, HttpStatusCode.BadRequest, "$.runs[1].costUsd" },
        { "tokens as text", "{\"runs\":[GOOD, {\"id\":\"ID\",\"usage\":{\"inputTokens\":\"12\"}}]}", null, HttpStatusCode.BadRequest, "$.runs[1].usage.inputTokens" },
        { "name too long", "{\"runs\":[GOOD, {\"id\":\"ID\",\"name\":\"" + new string('n', 65) + "\"}]}", null, HttpStatusCode.BadRequest, "$.runs[1].name" },
        { "body too large", "{\"runs\":[GOOD, {\"id\":\"ID\",\"output\":\"" + new string('o', 70_000) + "\"}]}", null, HttpStatusCode.RequestEntityTooLarge, null },
        { "too many items", "{\"runs\":[GOOD],\"events\":[" + string.Join(",", Enumerable.Repeat("{\"type\":\"heartbeat\"}", 10)) + "]}", null, HttpStatusCode.RequestEntityTooLarge, null },
        { "wrong content type", "{\"runs\":[GOOD]}", "text/plain", HttpStatusCode.UnsupportedMediaType, null },
    };

    [Theory]
    [MemberData(nameof(WholeRequestErrors))]
    public async Task Ingest_WholeRequestError_IsRefusedAndStoresNothing(string name, string template, string? contentType, HttpStatusCode expected, string? field)
    {
        await using var server = await StartLimitedAsync();
        var body = template.Replace("GOOD", Run(NewId(), T0, "\"sessionId\":\"s1\""), StringComparison.Ordinal).Replace("ID", NewId(), StringComparison.Ordinal);
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType ?? "application/json");
        using var response = await server.Client.PostAsync("/v1/ingest", content);

        var problem = await response.ShouldBeProblemAsync(expected);
        if (field is not null)
        {
            problem.GetProperty("field").GetString().ShouldBe(field, name);
        }

        if (expected == HttpStatusCode.UnsupportedMediaType)
        {
            problem.GetProperty("detail").GetString()!.ShouldContain("application/json");
        }

        await ShouldHoldNothingAsync(server);
    }

    [Fact]
    public async Task Ingest_BodyWithBytesThatAreNotUtf8_Answers400AtTheFieldAndStoresNothing()
    {
        await using var server = await StartLimitedAsync();
        var head = Encoding.UTF8.GetBytes("{\"runs\":[" + Run(NewId(), T0) + ",{\"id\":\"" + NewId() + "\",\"input\":{\"text\":\"caf");
        var tail = Encoding.UTF8.GetBytes("\"}}]}");
        using var content = new ByteArrayContent([.. head, 0xC3, 0x28, .. tail]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await server.Client.PostAsync("/v1/ingest", content);

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        problem.GetProperty("field").GetString().ShouldBe("$.runs[1].input");
        problem.GetProperty("detail").GetString()!.ShouldContain("UTF-8");
        await ShouldHoldNothingAsync(server);
    }

    [Fact]
    public async Task Ingest_ChunkedBodyOverMaxRequestBytes_Answers413AndStoresNothing()
    {
        await using var server = await StartLimitedAsync();
        var body = "{\"runs\":[" + Run(NewId(), T0) + ",{\"output\":\"" + new string('o', 70_000) + "\"}]}";
        using var content = new UnknownLengthContent(Encoding.UTF8.GetBytes(body));
        using var response = await server.Client.PostAsync("/v1/ingest", content);

        await response.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        await ShouldHoldNothingAsync(server);
    }

    [Fact]
    public async Task Ingest_ChunkedBodyWithoutLength_IsParsedAsItStreamsAndStored()
    {
        await using var server = await StartLimitedAsync();
        var id = NewId();
        var body = "{\"runs\":[" + Run(id, T0, "\"name\":\"chunked\",\"input\":{\"q\":\"refund\"}") + "]}";
        using var content = new UnknownLengthContent(Encoding.UTF8.GetBytes(body));
        using var response = await server.Client.PostAsync("/v1/ingest", content);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var run = (await server.Client.GetJsonAsync($"/v1/runs/{id}")).GetProperty("run");
        run.GetProperty("name").GetString().ShouldBe("chunked");
        run.GetProperty("input").GetRawText().ShouldBe("{\"q\":\"refund\"}");
    }

    [Fact]
    public async Task Ingest_MalformedBodyWithLength_NamesTheLineAndByte()
    {
        await using var server = await StartLimitedAsync();
        using var content = new StringContent("{\"runs\":[\n{\"id\": }]}", Encoding.UTF8, "application/json");
        using var response = await server.Client.PostAsync("/v1/ingest", content);

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        problem.GetProperty("detail").GetString()!.ShouldContain("(line 2, byte 8)");
        await ShouldHoldNothingAsync(server);
    }

    [Theory]
    [InlineData("\"plain text\"")]
    [InlineData("{\"a\": {\"b\": [1, 2.50, {\"c\": null}]}, \"d\": true, \"e\": \"x\"}")]
    [InlineData("[{\"role\":\"system\",\"content\":\"You are terse.\"},{\"role\":\"user\",\"content\":\"Refund?\"},{\"role\":\"assistant\",\"content\":\"No.\"}]")]
    [InlineData("42.50")]
    [InlineData("-1.5e-7")]
    [InlineData("\"h\u00e9llo \ud83c\udf0d \u4f60\u597d \\\"quoted\\\" back\\\\slash \\n newline \\u00e9 \\ud83d\\ude00 tab\\t\"")]
    public async Task Ingest_InputAndOutput_RoundTripExactly(string json)
    {
        await using var server = await LedgerTestServer.StartAsync();
        var id = NewId();
        await server.Client.IngestOkAsync(Body([Run(id, T0, $"\"input\":{json},\"output\":{json},\"parameters\":{{\"p\":{json}}}")]));

        using var response = await server.Client.GetAsync($"/v1/runs/{id}");
        var text = await response.Content.ReadAsStringAsync();
        using var document = JsonDocument.Parse(text);
        var run = document.RootElement.GetProperty("run");
        run.GetProperty("input").GetRawText().ShouldBe(json);
        run.GetProperty("output").GetRawText().ShouldBe(json);
        run.GetProperty("parameters").GetProperty("p").GetRawText().ShouldBe(json);

        var listed = (await server.Client.GetJsonAsync("/v1/runs?include=bodies")).GetProperty("items")[0];
        listed.GetProperty("input").GetRawText().ShouldBe(json);
    }

    [Fact]
    public async Task Ingest_BodyOverMaxBodyBytes_IsStoredAsTruncationMarkerWithSizeAndHash()
    {
        await using var server = await LedgerTestServer.StartAsync(["RunLedger:Payloads:MaxBodyBytes=2048", "RunLedger:Payloads:TruncatedHeadBytes=256"]);
        var id = NewId();
        var original = Str(string.Concat(Enumerable.Repeat("d\u00e9j\u00e0 vu \ud83d\ude00 ", 400)));
        var bytes = Encoding.UTF8.GetBytes(original);
        bytes.Length.ShouldBeGreaterThan(2048);
        await server.Client.IngestOkAsync(Body([Run(id, T0, $"\"input\":{original},\"output\":\"short\"")]));

        var run = (await server.Client.GetJsonAsync($"/v1/runs/{id}")).GetProperty("run");
        var marker = run.GetProperty("input");
        marker.ValueKind.ShouldBe(JsonValueKind.Object);
        marker.GetRawText().ShouldStartWith("{\"$truncated\":true");
        marker.GetProperty("originalBytes").GetInt64().ShouldBe(bytes.Length);
        marker.GetProperty("sha256").GetString().ShouldBe(Convert.ToHexStringLower(SHA256.HashData(bytes)));
        original.ShouldStartWith(marker.GetProperty("head").GetString()!);
        run.GetProperty("inputInfo").GetProperty("truncated").GetBoolean().ShouldBeTrue();
        run.GetProperty("inputInfo").GetProperty("originalBytes").GetInt64().ShouldBe(bytes.Length);
        run.GetProperty("output").GetString().ShouldBe("short");
    }

    [Fact]
    public async Task Ingest_TwoRunsWithIdenticalInput_StoreOnePayloadRow()
    {
        await using var server = await LedgerTestServer.StartAsync();
        var prompt = Str("You are a helpful assistant. " + string.Concat(Enumerable.Repeat("Follow the refund policy. ", 40)));
        await server.Client.IngestOkAsync(Body([Run(NewId(), T0, $"\"input\":{prompt}")]));
        await server.Client.IngestOkAsync(Body([Run(NewId(), T0.AddSeconds(1), $"\"input\":{prompt}")]));

        LedgerDatabase.Count(server, "runs").ShouldBe(2);
        LedgerDatabase.Count(server, "payloads").ShouldBe(1);
        LedgerDatabase.Count(server, "runs", "input_payload IS NOT NULL").ShouldBe(2);
        (await server.Client.AllRunsAsync()).Count.ShouldBe(2);
    }

    [Fact]
    public async Task Ingest_EventsWithSameIdempotencyKey_AreStoredOnce()
    {
        await using var server = await LedgerTestServer.StartAsync();
        const string Event = """{"type":"user_feedback","idempotencyKey":"fb-1","data":{"score":5}}""";
        await server.Client.IngestOkAsync($$"""{"events":[{{Event}},{{Event}}]}""");
        await server.Client.IngestOkAsync($$"""{"events":[{{Event}},{"type":"user_feedback","idempotencyKey":"fb-2"}]}""");

        var events = await server.Client.EventsAfterAsync(0, "type:user_feedback");
        events.Select(e => e.GetProperty("idempotencyKey").GetString()).ShouldBe(["fb-1", "fb-2"]);
        LedgerDatabase.Count(server, "events", "idempotency_key = 'fb-1'").ShouldBe(1);
    }

    [Fact]
    public async Task Ingest_RunStartedThenCompleted_WritesLifecycleEventsInOrder()
    {
        await using var server = await LedgerTestServer.StartAsync();
        var id = NewId();
        var failed = NewId();
        await server.Client.IngestOkAsync(Body([Run(id, T0, "\"status\":\"running\"")]));
        await server.Client.IngestOkAsync(Body([Run(id, T0, "\"status\":\"succeeded\",\"endedAt\":\"2026-11-21T23:00:05Z\""), Run(failed, T0, "\"status\":\"failed\"")]));

        var events = await server.Client.EventsAfterAsync();
        var mine = events.Where(e => e.TryGetProperty("runId", out var r) && r.GetString() == id).Select(e => e.GetProperty("type").GetString()).ToList();
        mine.ShouldBe(["run.started", "run.completed"]);
        events.Count(e => e.TryGetProperty("runId", out var r) && r.GetString() == failed && e.GetProperty("type").GetString() == "run.failed").ShouldBe(1);
        var ids = events.Select(e => e.GetProperty("id").GetInt64()).ToList();
        ids.ShouldBe(ids.Order().ToList());
        var detail = await server.Client.GetJsonAsync($"/v1/runs/{id}");
        detail.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("type").GetString()).ShouldBe(["run.started", "run.completed"]);
    }

    private static Task<LedgerTestServer> StartLimitedAsync() => LedgerTestServer.StartAsync([
        "RunLedger:Ingest:MaxRequestBytes=65536",
        "RunLedger:Ingest:MaxItemsPerRequest=10",
        "RunLedger:Ingest:MaxShortFieldLength=64",
    ]);

    private static async Task ShouldHoldNothingAsync(LedgerTestServer server)
    {
        (await server.Client.AllRunsAsync()).ShouldBeEmpty();
        (await server.Client.EventsAfterAsync()).ShouldBeEmpty();
        (await server.Client.GetJsonAsync("/v1/sessions")).GetProperty("items").GetArrayLength().ShouldBe(0);
        LedgerDatabase.Count(server, "runs").ShouldBe(0);
        LedgerDatabase.Count(server, "events").ShouldBe(0);
        LedgerDatabase.Count(server, "payloads").ShouldBe(0);
    }

    /// <summary>A body sent chunked, without Content-Length, so the server only learns its size while reading.</summary>
    private sealed class UnknownLengthContent(byte[] bytes) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => stream.WriteAsync(bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            Headers.ContentType ??= new MediaTypeHeaderValue("application/json");
            return false;
        }
    }
}
