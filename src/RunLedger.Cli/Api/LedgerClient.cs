using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using RunLedger.Core;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Storage;

namespace RunLedger.Cli.Api;

/// <summary>
/// A typed client for the RunLedger HTTP API (docs/api.md). Every call throws
/// <see cref="LedgerApiException"/> when the server answers with an error and
/// <see cref="LedgerUnreachableException"/> when no answer comes back.
/// </summary>
public sealed class LedgerClient : IDisposable
{
    private const string ScopeRead = "read";
    private const string ScopeIngest = "ingest";
    private const string ScopeAdmin = "admin";

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;

    /// <summary>Uses <paramref name="http"/> as given; its base address must be set.</summary>
    public LedgerClient(HttpClient http, string? apiKey)
        : this(http, apiKey, ownsHttp: false)
    {
    }

    private LedgerClient(HttpClient http, string? apiKey, bool ownsHttp)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (http.BaseAddress is null)
        {
            throw new ArgumentException("The HttpClient needs a base address.", nameof(http));
        }

        _http = http;
        _ownsHttp = ownsHttp;
        ApiKey = string.IsNullOrWhiteSpace(apiKey) ? null : apiKey.Trim();
    }

    /// <summary>How long an ordinary request may take (the live stream is not bounded by it).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(100);

    /// <summary>The longest wait between two reconnection attempts of the live stream.</summary>
    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(10);

    public Uri BaseAddress => _http.BaseAddress!;

    public string? ApiKey { get; }

    /// <summary>
    /// Makes a client for <paramref name="server"/>. A <paramref name="handler"/> replaces the
    /// network (tests); it stays owned by the caller.
    /// </summary>
    public static LedgerClient Create(Uri server, string? apiKey, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        var baseAddress = server.AbsoluteUri.EndsWith('/') ? server : new Uri(server.AbsoluteUri + "/");
        var http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        http.BaseAddress = baseAddress;
        http.Timeout = Timeout.InfiniteTimeSpan;
        http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("runledger-cli", typeof(LedgerClient).Assembly.GetName().Version?.ToString(3) ?? "0"));
        return new LedgerClient(http, apiKey, ownsHttp: true);
    }

    public Task<Page<Run>> ListRunsAsync(string? filter, int? limit, string? cursor, CancellationToken cancellationToken, bool includeBodies = false) =>
        GetAsync<Page<Run>>(LedgerRoutes.Runs(filter, limit, cursor, includeBodies), ScopeRead, cancellationToken);

    /// <summary>Every run matching <paramref name="filter"/>, newest first, following <c>nextCursor</c> up to <paramref name="maxItems"/>.</summary>
    public async IAsyncEnumerable<Run> EnumerateRunsAsync(
        string? filter,
        int pageSize,
        int? maxItems,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? cursor = null;
        var count = 0;
        do
        {
            var page = await ListRunsAsync(filter, pageSize, cursor, cancellationToken).ConfigureAwait(false);
            foreach (var run in page.Items)
            {
                if (count++ >= maxItems)
                {
                    yield break;
                }

                yield return run;
            }

            cursor = page.NextCursor;
        }
        while (!string.IsNullOrEmpty(cursor));
    }

    public Task<RunDetail> GetRunAsync(string id, CancellationToken cancellationToken) =>
        GetAsync<RunDetail>(LedgerRoutes.Run(id), ScopeRead, cancellationToken);

    public Task<Page<Session>> ListSessionsAsync(string? filter, int? limit, string? cursor, CancellationToken cancellationToken) =>
        GetAsync<Page<Session>>(LedgerRoutes.Sessions(filter, limit, cursor), ScopeRead, cancellationToken);

    /// <summary>A session with a page of its top-level runs (the server's default page without <paramref name="limit"/>).</summary>
    public Task<SessionDetail> GetSessionAsync(string id, int? limit, string? cursor, CancellationToken cancellationToken) =>
        GetAsync<SessionDetail>(LedgerRoutes.Session(id, limit, cursor), ScopeRead, cancellationToken);

    /// <summary>Events after <paramref name="after"/> oldest first; without it, the newest <paramref name="limit"/> events.</summary>
    public Task<EventPage> ListEventsAsync(long? after, string? filter, int? limit, CancellationToken cancellationToken) =>
        GetAsync<EventPage>(LedgerRoutes.Events(after, filter, limit), ScopeRead, cancellationToken);

    public Task<StatsResult> GetStatsAsync(StatsRequest request, CancellationToken cancellationToken) =>
        GetAsync<StatsResult>(LedgerRoutes.Stats(request), ScopeRead, cancellationToken);

    /// <summary>Sends a batch; a 207 answer (some items rejected) is returned, not thrown.</summary>
    public Task<IngestResponse> IngestAsync(IngestRequest request, CancellationToken cancellationToken) =>
        SendJsonAsync<IngestResponse>(HttpMethod.Post, LedgerRoutes.Ingest, request, ScopeIngest, cancellationToken);

    public Task<IReadOnlyList<ProjectInfo>> ListProjectsAsync(CancellationToken cancellationToken) =>
        GetAsync<IReadOnlyList<ProjectInfo>>(LedgerRoutes.Projects, ScopeAdmin, cancellationToken);

    public Task<ProjectInfo> CreateProjectAsync(string name, CancellationToken cancellationToken) =>
        SendJsonAsync<ProjectInfo>(HttpMethod.Post, LedgerRoutes.Projects, new { name }, ScopeAdmin, cancellationToken);

    public Task<IReadOnlyList<KeyInfo>> ListKeysAsync(CancellationToken cancellationToken) =>
        GetAsync<IReadOnlyList<KeyInfo>>(LedgerRoutes.Keys, ScopeAdmin, cancellationToken);

    public Task<CreatedKey> CreateKeyAsync(CreateKeyRequest request, CancellationToken cancellationToken) =>
        SendJsonAsync<CreatedKey>(HttpMethod.Post, LedgerRoutes.Keys, request, ScopeAdmin, cancellationToken);

    public async Task RevokeKeyAsync(long id, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, LedgerRoutes.Key(id));
        using var response = await SendAsync(request, ScopeAdmin, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
    }

    public Task<WhoAmI> WhoAmIAsync(CancellationToken cancellationToken) =>
        GetAsync<WhoAmI>(LedgerRoutes.WhoAmI, "any valid key", cancellationToken);

    /// <summary>
    /// Follows <c>GET /v1/stream</c> until cancelled. After a dropped connection it reconnects
    /// with <c>Last-Event-ID</c>, so no event is missed or repeated. <paramref name="onReconnect"/>
    /// hears about each attempt (the error and the delay before the next try).
    /// </summary>
    public async IAsyncEnumerable<LedgerEvent> StreamEventsAsync(
        string? filter,
        long? after,
        Action<Exception, TimeSpan>? onReconnect,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var lastId = after;
        var failures = 0;
        var connected = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, LedgerRoutes.Stream(filter, after: null));
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
            if (lastId is { } id)
            {
                request.Headers.TryAddWithoutValidation("Last-Event-ID", id.ToString(CultureInfo.InvariantCulture));
            }

            HttpResponseMessage? response = null;
            IAsyncEnumerator<SseItem<string>>? items = null;
            Exception? dropped = null;
            try
            {
                try
                {
                    response = await SendAsync(request, ScopeRead, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                    var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                    items = SseParser.Create(stream).EnumerateAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
                    connected = true;
                }
                catch (LedgerUnreachableException ex) when (connected)
                {
                    // Once the stream has been open, an unreachable server is a restart to wait for.
                    dropped = ex;
                }

                while (items is not null)
                {
                    bool more;
                    try
                    {
                        more = await items.MoveNextAsync().ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
                    {
                        dropped = ex;
                        break;
                    }

                    if (!more)
                    {
                        dropped = new IOException("The server closed the stream.");
                        break;
                    }

                    var item = items.Current;
                    if (string.IsNullOrWhiteSpace(item.Data))
                    {
                        continue;
                    }

                    var ledgerEvent = JsonSerializer.Deserialize<LedgerEvent>(item.Data, LedgerJson.Options);
                    if (ledgerEvent is null)
                    {
                        continue;
                    }

                    failures = 0;
                    lastId = long.TryParse(item.EventId, NumberStyles.Integer, CultureInfo.InvariantCulture, out var eventId) ? eventId : ledgerEvent.Id;
                    yield return ledgerEvent;
                }
            }
            finally
            {
                if (items is not null)
                {
                    await items.DisposeAsync().ConfigureAwait(false);
                }

                response?.Dispose();
            }

            if (dropped is null || cancellationToken.IsCancellationRequested)
            {
                yield break;
            }

            failures++;
            var delay = TimeSpan.FromMilliseconds(Math.Min(MaxReconnectDelay.TotalMilliseconds, 500 * Math.Pow(2, Math.Min(failures - 1, 10))));
            onReconnect?.Invoke(dropped, delay);
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    private async Task<T> GetAsync<T>(string path, string scope, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        using var response = await SendAsync(request, scope, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        return await ReadAsync<T>(response, path, cancellationToken).ConfigureAwait(false);
    }

    private async Task<T> SendJsonAsync<T>(HttpMethod method, string path, object body, string scope, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path)
        {
            Content = JsonContent.Create(body, body.GetType(), options: LedgerJson.Options),
        };
        using var response = await SendAsync(request, scope, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        return await ReadAsync<T>(response, path, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, string path, CancellationToken cancellationToken)
    {
        try
        {
            var value = await response.Content.ReadFromJsonAsync<T>(LedgerJson.Options, cancellationToken).ConfigureAwait(false);
            return value ?? throw new LedgerApiException($"The server answered {path} with an empty body.");
        }
        catch (JsonException ex)
        {
            throw new LedgerApiException($"The server's answer to {path} is not the JSON this client expects: {ex.Message}", ex);
        }
    }

    private async Task<HttpResponseMessage> SendAsync(
        HttpRequestMessage request,
        string scope,
        HttpCompletionOption completion,
        CancellationToken cancellationToken)
    {
        if (ApiKey is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        }

        HttpResponseMessage response;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            if (completion == HttpCompletionOption.ResponseContentRead)
            {
                timeout.CancelAfter(RequestTimeout);
            }

            try
            {
                response = await _http.SendAsync(request, completion, timeout.Token).ConfigureAwait(false);
            }
            catch (HttpRequestException ex)
            {
                throw new LedgerUnreachableException(BaseAddress, ex);
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw new LedgerUnreachableException(BaseAddress, new TimeoutException($"No answer within {RequestTimeout.TotalSeconds:0} s.", ex));
            }
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var problem = await ReadProblemAsync(response, cancellationToken).ConfigureAwait(false);
            throw new LedgerApiException(response.StatusCode, problem, request.RequestUri?.OriginalString ?? string.Empty, scope)
            {
                RetryAfter = response.Headers.RetryAfter?.Delta,
            };
        }
    }

    private static async Task<LedgerProblem?> ReadProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<LedgerProblem>(text, LedgerJson.Options);
        }
        catch (JsonException)
        {
            // Not problem details (a proxy's HTML page, plain text): keep the start of it as the detail.
            return new LedgerProblem
            {
                Status = (int)response.StatusCode,
                Title = response.ReasonPhrase,
                Detail = text.Length > 300 ? text[..300] + "..." : text,
            };
        }
    }

    internal static bool IsAuthStatus(HttpStatusCode status) => status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden;
}
