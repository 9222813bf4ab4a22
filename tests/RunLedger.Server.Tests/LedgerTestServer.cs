using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using RunLedger.Core;
using RunLedger.Server;

namespace RunLedger.Server.Tests;

/// <summary>A real RunLedger server on Kestrel at 127.0.0.1 (random port) over a SQLite file in a temp directory.</summary>
public sealed class LedgerTestServer : IAsyncDisposable
{
    public const string AdminKey = "rl_test-admin-key-0123456789abcdef";

    private readonly WebApplication _app;
    private readonly bool _ownsDirectory;

    private LedgerTestServer(WebApplication app, string dataDirectory, string baseUrl, bool ownsDirectory)
    {
        _app = app;
        DataDirectory = dataDirectory;
        BaseUrl = baseUrl;
        _ownsDirectory = ownsDirectory;
        Client = CreateClient(AdminKey);
    }

    public string DataDirectory { get; }

    public string BaseUrl { get; }

    /// <summary>A client with the admin key.</summary>
    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<LedgerTestServer> StartAsync(IEnumerable<string>? settings = null, string? dataDirectory = null)
    {
        var owns = dataDirectory is null;
        dataDirectory ??= NewTempDirectory();
        var options = new ServerOptions { DataDirectory = dataDirectory, Urls = "http://127.0.0.1:0" };
        options.Arguments.Add($"--RUNLEDGER_BOOTSTRAP_KEY={AdminKey}");
        options.Arguments.Add("--Logging:LogLevel:Default=Warning");
        foreach (var setting in settings ?? [])
        {
            options.Arguments.Add("--" + setting);
        }

        var app = LedgerHost.Build(options);
        await LedgerHost.StartAsync(app, CancellationToken.None, TextWriter.Null);
        var address = LedgerHost.Addresses(app).First();
        return new LedgerTestServer(app, dataDirectory, address, owns);
    }

    public static string NewTempDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), "runledger-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    public HttpClient CreateClient(string? key)
    {
        var client = new HttpClient { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromSeconds(60) };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return client;
    }

    /// <summary>Creates a key through the API and returns its secret.</summary>
    public async Task<string> CreateKeyAsync(string scopes, string? project = null)
    {
        if (project is not null)
        {
            (await Client.PostAsJsonAsync("/v1/projects", new { name = project })).EnsureSuccessStatusCode();
        }

        var response = await Client.PostAsJsonAsync("/v1/keys", new { name = "test-" + scopes, project, scopes = scopes.Split(',') });
        response.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("secret").GetString()!;
    }

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static StringContent Json(object value) => new(JsonSerializer.Serialize(value, LedgerJson.Options), Encoding.UTF8, "application/json");

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_ownsDirectory)
        {
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
