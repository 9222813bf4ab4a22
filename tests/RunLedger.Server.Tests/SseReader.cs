using System.Text;

namespace RunLedger.Server.Tests;

/// <summary>One Server-Sent Events message.</summary>
internal sealed record SseMessage(long Id, string Event, string Data);

/// <summary>Reads <c>GET /v1/stream</c> line by line and yields complete messages; comments are skipped.</summary>
internal sealed class SseReader : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private SseReader(HttpResponseMessage response, StreamReader reader)
    {
        _response = response;
        _reader = reader;
    }

    public HttpResponseMessage Response => _response;

    public static async Task<SseReader> ConnectAsync(HttpClient client, string url, long? lastEventId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (lastEventId is { } last)
        {
            request.Headers.Add("Last-Event-ID", last.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();
        var reader = new SseReader(response, new StreamReader(stream, Encoding.UTF8));
        if (response.IsSuccessStatusCode)
        {
            // The server sends ": connected" once its starting point is fixed; wait for it so
            // that anything ingested afterwards is certain to be delivered.
            await reader.WaitForCommentAsync("connected", TimeSpan.FromSeconds(10));
        }

        return reader;
    }

    private async Task WaitForCommentAsync(string comment, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            var line = await _reader.ReadLineAsync(cts.Token) ?? throw new InvalidOperationException("The stream ended before it said it was connected.");
            if (line == ": " + comment)
            {
                return;
            }
        }
    }

    /// <summary>Reads messages until <paramref name="until"/> holds for the list read so far, or the deadline passes.</summary>
    public async Task<List<SseMessage>> ReadUntilAsync(Func<IReadOnlyList<SseMessage>, bool> until, TimeSpan timeout)
    {
        var messages = new List<SseMessage>();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (!until(messages))
            {
                var message = await ReadMessageAsync(cts.Token);
                if (message is null)
                {
                    break;
                }

                messages.Add(message);
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            // The deadline passed: the caller asserts on what arrived.
        }

        return messages;
    }

    private async Task<SseMessage?> ReadMessageAsync(CancellationToken cancellationToken)
    {
        long? id = null;
        string? type = null;
        var data = new StringBuilder();
        while (true)
        {
            var line = await _reader.ReadLineAsync(cancellationToken);
            if (line is null)
            {
                return null;
            }

            if (line.Length == 0)
            {
                if (id is not null || data.Length > 0)
                {
                    return new SseMessage(id ?? 0, type ?? "message", data.ToString());
                }

                continue;
            }

            if (line.StartsWith(':'))
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? string.Empty : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "id":
                    id = long.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                    break;
                case "event":
                    type = value;
                    break;
                case "data":
                    if (data.Length > 0)
                    {
                        data.Append('\n');
                    }

                    data.Append(value);
                    break;
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        return ValueTask.CompletedTask;
    }
}
