using System.Globalization;
using System.Net.Http.Headers;
using System.Text;

namespace RunLedger.Cli.Tests;

/// <summary>Small ingest requests for process-level tests.</summary>
internal static class IngestBodies
{
    /// <summary>A request with one completed llm run per id, all named <paramref name="name"/>.</summary>
    public static StringContent Runs(IReadOnlyList<Guid> ids, string name)
    {
        var json = new StringBuilder("{\"runs\":[");
        var ended = DateTimeOffset.UtcNow;
        for (var i = 0; i < ids.Count; i++)
        {
            json.Append(i == 0 ? string.Empty : ",")
                .Append(CultureInfo.InvariantCulture, $"{{\"id\":\"{ids[i]}\",\"kind\":\"llm\",\"name\":\"{name}\",\"model\":\"m{i % 3}\",\"status\":\"succeeded\",")
                .Append(CultureInfo.InvariantCulture, $"\"startedAt\":\"{ended.AddSeconds(-2):O}\",\"endedAt\":\"{ended:O}\",")
                .Append(CultureInfo.InvariantCulture, $"\"input\":\"question {ids[i]}\",\"output\":\"answer\",\"usage\":{{\"inputTokens\":10,\"outputTokens\":5}},\"costUsd\":0.0001}}");
        }

        return new StringContent(json.Append("]}").ToString(), Encoding.UTF8, "application/json");
    }

    /// <summary>An HTTP client for <paramref name="server"/> with the admin key.</summary>
    public static HttpClient Client(ServerProcess server, TimeSpan? timeout = null)
    {
        var client = new HttpClient { BaseAddress = new Uri(server.Url), Timeout = timeout ?? TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ServerProcess.AdminKey);
        return client;
    }

    public static string NewDataDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), "runledger-cli-pg", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }
}
