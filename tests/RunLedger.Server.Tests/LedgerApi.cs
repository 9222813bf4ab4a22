using System.Globalization;
using System.Net;
using System.Text.Json;

namespace RunLedger.Server.Tests;

/// <summary>Short-hands for the calls most tests make.</summary>
internal static class LedgerApi
{
    public static async Task<(HttpStatusCode Status, JsonElement Body)> IngestAsync(this HttpClient client, string body)
    {
        using var response = await client.PostAsync("/v1/ingest", LedgerTestServer.Json(body));
        var text = await response.Content.ReadAsStringAsync();
        using var document = JsonDocument.Parse(text);
        return (response.StatusCode, document.RootElement.Clone());
    }

    /// <summary>Ingests and insists on 200.</summary>
    public static async Task IngestOkAsync(this HttpClient client, string body)
    {
        var (status, answer) = await client.IngestAsync(body);
        status.ShouldBe(HttpStatusCode.OK, answer.ToString());
    }

    /// <summary>Every run of the key's project, following nextCursor to the end.</summary>
    public static async Task<List<JsonElement>> AllRunsAsync(this HttpClient client, string? q = null)
    {
        var runs = new List<JsonElement>();
        string? cursor = null;
        do
        {
            var url = "/v1/runs?limit=1000" + (q is null ? string.Empty : "&q=" + Uri.EscapeDataString(q))
                + (cursor is null ? string.Empty : "&cursor=" + Uri.EscapeDataString(cursor));
            var page = await client.GetJsonAsync(url);
            runs.AddRange(page.GetProperty("items").EnumerateArray());
            cursor = page.TryGetProperty("nextCursor", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
        }
        while (cursor is not null);
        return runs;
    }

    /// <summary>Every event after <paramref name="after"/>, oldest first.</summary>
    public static async Task<List<JsonElement>> EventsAfterAsync(this HttpClient client, long after = 0, string? q = null)
    {
        var events = new List<JsonElement>();
        while (true)
        {
            var url = string.Create(CultureInfo.InvariantCulture, $"/v1/events?after={after}&limit=1000")
                + (q is null ? string.Empty : "&q=" + Uri.EscapeDataString(q));
            var page = await client.GetJsonAsync(url);
            var items = page.GetProperty("items");
            if (items.GetArrayLength() == 0)
            {
                return events;
            }

            events.AddRange(items.EnumerateArray());
            after = page.GetProperty("lastId").GetInt64();
        }
    }

    /// <summary>Checks an RFC 9457 problem answer and returns its body.</summary>
    public static async Task<JsonElement> ShouldBeProblemAsync(this HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(status, text);
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json", text);
        using var document = JsonDocument.Parse(text);
        var body = document.RootElement.Clone();
        body.GetProperty("status").GetInt32().ShouldBe((int)status);
        body.GetProperty("title").GetString().ShouldNotBeNullOrWhiteSpace();
        body.TryGetProperty("detail", out var detail).ShouldBeTrue(text);
        detail.GetString().ShouldNotBeNullOrWhiteSpace();
        return body;
    }

    /// <summary>Polls until <paramref name="condition"/> holds or the deadline passes; returns whether it held.</summary>
    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (DateTimeOffset.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(50);
        }

        return await condition();
    }
}
