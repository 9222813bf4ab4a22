using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using RunLedger.Core;
using RunLedger.Core.Ingest;
using RunLedger.Server;

namespace RunLedger.Benchmarks;

/// <summary>The real RunLedger server started in-process on 127.0.0.1 with a random port, and a few HTTP clients.</summary>
internal sealed class HttpLedger : IAsyncDisposable
{
    private const string Key = "rl_benchmark_key_0123456789abcdef";
    private readonly WebApplication _app;
    private readonly List<HttpClient> _clients = [];

    private HttpLedger(WebApplication app)
    {
        _app = app;
    }

    /// <param name="store">The store location (see <c>--store</c>); null for SQLite in <paramref name="directory"/>.</param>
    public static async Task<HttpLedger> StartAsync(string directory, int clients, CancellationToken cancellationToken, string? store = null)
    {
        var options = new ServerOptions { DataDirectory = directory, Urls = "http://127.0.0.1:0", Store = store };
        options.Arguments.Add("--RUNLEDGER_BOOTSTRAP_KEY=" + Key);
        var app = LedgerHost.Build(options, builder => builder.Logging.ClearProviders());
        await LedgerHost.StartAsync(app, cancellationToken, TextWriter.Null).ConfigureAwait(false);
        var ledger = new HttpLedger(app);
        var address = new Uri(LedgerHost.Addresses(app)[0]);
        for (var i = 0; i < clients; i++)
        {
            var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 }) { BaseAddress = address, Timeout = TimeSpan.FromMinutes(5) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
            ledger._clients.Add(client);
        }

        return ledger;
    }

    /// <summary>Requests serialized up front, so client-side JSON work does not share the timed section.</summary>
    public static byte[] Serialize(IngestRequest request) => JsonSerializer.SerializeToUtf8Bytes(request, LedgerJson.Options);

    public async Task<int> PostAsync(int client, byte[] body, int items, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await _clients[client].PostAsync(new Uri("/v1/ingest", UriKind.Relative), content, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode || response.StatusCode != System.Net.HttpStatusCode.OK)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw new InvalidOperationException($"POST /v1/ingest answered {(int)response.StatusCode}: {text}");
        }

        return items;
    }

    private bool _disposed;

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
