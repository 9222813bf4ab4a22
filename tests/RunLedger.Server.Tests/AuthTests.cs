using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using static RunLedger.Server.Tests.RunBuilder;

namespace RunLedger.Server.Tests;

public sealed class AuthTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);

    /// <summary>Every /v1 endpoint: method, path, the scope it needs, and a key lacking it (null: any key will do).</summary>
    public static TheoryData<string, string, string?> Endpoints => new()
    {
        { "GET", "/v1/runs", "ingest" },
        { "GET", "/v1/runs/0193a000-0000-7000-8000-000000000001", "ingest" },
        { "GET", "/v1/sessions", "ingest" },
        { "GET", "/v1/sessions/nightly", "ingest" },
        { "GET", "/v1/events", "ingest" },
        { "GET", "/v1/stats", "ingest" },
        { "GET", "/v1/stream", "ingest" },
        { "POST", "/v1/ingest", "read" },
        { "GET", "/v1/keys", "ingest,read" },
        { "POST", "/v1/keys", "ingest,read" },
        { "DELETE", "/v1/keys/999999", "ingest,read" },
        { "GET", "/v1/projects", "ingest,read" },
        { "POST", "/v1/projects", "ingest,read" },
        { "GET", "/v1/whoami", null },
    };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Endpoint_WithoutAValidKey_Answers401(string method, string path, string? lackingScopes)
    {
        _ = lackingScopes;
        await using var server = await LedgerTestServer.StartAsync();
        var revoked = await server.CreateKeyAsync("ingest,read,admin");
        var revokedId = await KeyIdAsync(server, revoked);
        using (var before = await SendAsync(server, revoked, null, method, path))
        {
            before.StatusCode.ShouldNotBe(HttpStatusCode.Unauthorized);
        }

        (await server.Client.DeleteAsync($"/v1/keys/{revokedId}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        var attempts = new (string Name, string? Key, string? Header)[]
        {
            ("no key", null, null),
            ("basic scheme", null, "Basic dXNlcjpwYXNz"),
            ("bearer without key", null, "Bearer "),
            ("short key", null, "Bearer rl_x"),
            ("unknown key", "rl_this-key-was-never-issued-0000", null),
            ("revoked key", revoked, null),
        };
        foreach (var (name, key, header) in attempts)
        {
            using var response = await SendAsync(server, key, header, method, path);
            var problem = await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
            problem.GetProperty("type").GetString().ShouldNotBeNull(name);
            response.Headers.WwwAuthenticate.ShouldNotBeEmpty(name);
            response.Headers.WwwAuthenticate.First().Scheme.ShouldBe("Bearer", name);
        }
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Endpoint_WithAKeyLackingTheScope_Answers403AndWithTheScopeIsServed(string method, string path, string? lackingScopes)
    {
        await using var server = await LedgerTestServer.StartAsync();
        if (lackingScopes is not null)
        {
            var weak = await server.CreateKeyAsync(lackingScopes);
            using var refused = await SendAsync(server, weak, null, method, path);
            var problem = await refused.ShouldBeProblemAsync(HttpStatusCode.Forbidden);
            problem.GetProperty("detail").GetString()!.ShouldContain("needs");
        }

        using var served = await SendAsync(server, LedgerTestServer.AdminKey, null, method, path);
        ((int)served.StatusCode).ShouldBeOneOf([200, 201, 204, 404], path == "/v1/stream" ? path : await served.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Key_Revoked_StopsWorkingAtOnceEvenWhenCached()
    {
        await using var server = await LedgerTestServer.StartAsync();
        var secret = await server.CreateKeyAsync("read");
        using var client = server.CreateClient(secret);
        for (var i = 0; i < 3; i++)
        {
            (await client.GetAsync("/v1/runs")).StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        (await server.Client.DeleteAsync($"/v1/keys/{await KeyIdAsync(server, secret)}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        using var after = await client.GetAsync("/v1/runs");
        await after.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        var keys = await server.Client.GetJsonAsync("/v1/keys");
        keys.EnumerateArray().Single(k => secret.StartsWith(k.GetProperty("prefix").GetString()!, StringComparison.Ordinal))
            .GetProperty("revokedAt").ValueKind.ShouldBe(JsonValueKind.String);
    }

    [Fact]
    public async Task Projects_KeysOfOneProject_NeverSeeTheOthersData()
    {
        await using var server = await LedgerTestServer.StartAsync();
        var otherKey = await server.CreateKeyAsync("read,ingest", "other");
        using var other = server.CreateClient(otherKey);
        (await other.GetJsonAsync("/v1/whoami")).GetProperty("project").GetString().ShouldBe("other");
        var mine = NewId();
        var theirs = NewId();
        await server.Client.IngestOkAsync("{\"runs\":[" + Run(mine, T0, "\"sessionId\":\"shared-name\",\"status\":\"failed\",\"model\":\"gpt-4o\",\"usage\":{\"inputTokens\":10}") + "],\"events\":[{\"type\":\"heartbeat\",\"sessionId\":\"shared-name\"}]}");
        await other.IngestOkAsync("{\"runs\":[" + Run(theirs, T0.AddMinutes(1), "\"sessionId\":\"other-session\",\"status\":\"succeeded\"") + "]}");

        await ShouldSeeOnlyAsync(other, own: theirs, foreign: mine, foreignSession: "shared-name", ownCount: 1);
        await ShouldSeeOnlyAsync(server.Client, own: mine, foreign: theirs, foreignSession: "other-session", ownCount: 1);

        // The stream of the other project delivers nothing of the default project.
        await using var stream = await SseReader.ConnectAsync(other, "/v1/stream");
        var hidden = NewId();
        var marker = NewId();
        await server.Client.IngestOkAsync(Body([Run(hidden, T0, "\"status\":\"failed\"")]));
        await other.IngestOkAsync(Body([Run(marker, T0)]));
        var messages = await stream.ReadUntilAsync(m => m.Any(x => x.Data.Contains(marker, StringComparison.Ordinal)), TimeSpan.FromSeconds(15));
        messages.ShouldContain(m => m.Data.Contains(marker, StringComparison.Ordinal));
        messages.ShouldNotContain(m => m.Data.Contains(hidden, StringComparison.Ordinal) || m.Data.Contains(mine, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    [InlineData("/openapi/v1.json")]
    public async Task OpenEndpoints_NeedNoKey(string path)
    {
        await using var server = await LedgerTestServer.StartAsync();
        using var anonymous = server.CreateClient(null);
        using var response = await anonymous.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        if (path == "/openapi/v1.json")
        {
            using var document = JsonDocument.Parse(text);
            var paths = document.RootElement.GetProperty("paths");
            paths.TryGetProperty("/v1/ingest", out _).ShouldBeTrue();
            paths.TryGetProperty("/v1/runs", out _).ShouldBeTrue();
        }
    }

    [Fact]
    public async Task Ready_OnSqlite_SaysHowManyRunsTheFullTextIndexHasNotReached()
    {
        await using var server = await LedgerTestServer.StartAsync();
        await server.Client.IngestOkAsync(Body([Run(NewId(), T0)]));
        using var anonymous = server.CreateClient(null);
        using var response = await anonymous.GetAsync("/readyz");
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        using var document = JsonDocument.Parse(text);
        document.RootElement.GetProperty("unindexedRuns").GetInt64().ShouldBeInRange(0, 1, text);
    }

    private static async Task ShouldSeeOnlyAsync(HttpClient client, string own, string foreign, string foreignSession, int ownCount)
    {
        using (var response = await client.GetAsync($"/v1/runs/{foreign}"))
        {
            await response.ShouldBeProblemAsync(HttpStatusCode.NotFound);
        }

        using (var response = await client.GetAsync($"/v1/sessions/{foreignSession}"))
        {
            await response.ShouldBeProblemAsync(HttpStatusCode.NotFound);
        }

        (await client.GetJsonAsync($"/v1/runs/{own}")).GetProperty("run").GetProperty("id").GetString().ShouldBe(own);
        (await client.AllRunsAsync()).Select(r => r.GetProperty("id").GetString()).ShouldBe([own]);
        (await client.GetJsonAsync("/v1/sessions")).GetProperty("items").EnumerateArray().Select(s => s.GetProperty("id").GetString()).ShouldNotContain(foreignSession);
        var events = await client.EventsAfterAsync();
        events.ShouldNotBeEmpty();
        events.ShouldAllBe(e => !e.ToString().Contains(foreign) && !e.ToString().Contains(foreignSession));
        var stats = await client.GetJsonAsync("/v1/stats?from=2026-11-21&to=2026-11-22");
        stats.GetProperty("total").GetProperty("count").GetInt64().ShouldBe(ownCount);
        var byModel = await client.GetJsonAsync("/v1/stats?from=2026-11-21T10:00:00Z&to=2026-11-21T11:00:00Z&groupBy=metadata.x");
        byModel.GetProperty("total").GetProperty("count").GetInt64().ShouldBe(ownCount);
    }

    private static async Task<long> KeyIdAsync(LedgerTestServer server, string secret)
    {
        var keys = await server.Client.GetJsonAsync("/v1/keys");
        return keys.EnumerateArray().Single(k => secret.StartsWith(k.GetProperty("prefix").GetString()!, StringComparison.Ordinal)).GetProperty("id").GetInt64();
    }

    private static async Task<HttpResponseMessage> SendAsync(LedgerTestServer server, string? key, string? header, string method, string path)
    {
        using var client = server.CreateClient(key);
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (header is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", header);
        }

        if (method == "POST")
        {
            request.Content = path switch
            {
                "/v1/ingest" => LedgerTestServer.Json(Body([Run(NewId(), T0)])),
                "/v1/keys" => JsonContent.Create(new { name = "k", scopes = new[] { "read" } }),
                _ => JsonContent.Create(new { name = "p" + Guid.NewGuid().ToString("N")[..8] }),
            };
        }

        // Headers only: the stream answers 200 and then stays open.
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (path == "/v1/stream" && response.IsSuccessStatusCode)
        {
            response.Content.Headers.ContentType.ShouldBe(MediaTypeHeaderValue.Parse("text/event-stream"));
        }

        return response;
    }
}
