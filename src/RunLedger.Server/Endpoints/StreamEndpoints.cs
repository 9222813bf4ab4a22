using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using RunLedger.Core;
using RunLedger.Core.Ingest;
using RunLedger.Core.Query;
using RunLedger.Core.Security;
using RunLedger.Core.Storage;
using RunLedger.Server.Auth;

namespace RunLedger.Server.Endpoints;

/// <summary>
/// <c>GET /v1/stream</c>: the event log as Server-Sent Events. Every message comes from the event
/// table (never from memory), so a client resuming with <c>Last-Event-ID</c> gets every event it
/// missed, exactly once, and nothing uncommitted. The in-process notifier only says "look again".
/// SSE is written by hand because the platform's formatter cannot send the comment lines that keep
/// idle connections open through proxies.
/// </summary>
internal static class StreamEndpoints
{
    private const int PageSize = 500;

    public static void MapStream(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/v1/stream", StreamAsync)
            .RequireScope(KeyScopes.Read)
            .WithName("Stream")
            .WithSummary("Live events as Server-Sent Events, resumable with Last-Event-ID")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream");
    }

    internal static async Task<IResult> StreamAsync(
        HttpContext http,
        ILedgerStore store,
        LedgerChangeNotifier notifier,
        StreamSettings settings,
        TimeProvider time,
        string? q,
        string? after,
        CancellationToken cancellationToken)
    {
        var key = CallerKey.Get(http);
        if (!QueryArguments.TryParseFilter(q, FilterTarget.Events, out var filter, out var error))
        {
            return Problems.BadRequest("invalid-filter", error!.Value.Message, "q", error.Value.Column);
        }

        var resumeFrom = http.Request.Headers["Last-Event-ID"].ToString();
        if (string.IsNullOrEmpty(resumeFrom))
        {
            resumeFrom = after ?? string.Empty;
        }

        long last;
        if (resumeFrom.Length > 0)
        {
            if (!long.TryParse(resumeFrom, NumberStyles.None, CultureInfo.InvariantCulture, out last))
            {
                return Problems.BadRequest("invalid-argument", $"Last-Event-ID / after: '{resumeFrom}' must be an event id.", "Last-Event-ID");
            }
        }
        else
        {
            last = await store.Reader.GetLastEventIdAsync(key.ProjectId, cancellationToken).ConfigureAwait(false);
        }

        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        var body = http.Response.Body;
        await WriteAsync(body, "retry: 2000\n: connected\n\n", cancellationToken).ConfigureAwait(false);
        var lastWrite = time.GetUtcNow();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                // Read the ceiling first: every event up to it is committed, so once a page comes
                // back short, nothing at or below it is still to come.
                var ceiling = await store.Reader.GetLastEventIdAsync(key.ProjectId, cancellationToken).ConfigureAwait(false);
                if (ceiling > last)
                {
                    var events = await store.Reader.ReadEventsAsync(key.ProjectId, last, filter, PageSize, cancellationToken).ConfigureAwait(false);
                    if (events.Count > 0)
                    {
                        var text = new StringBuilder();
                        foreach (var e in events)
                        {
                            text.Append("id: ").Append(e.Id.ToString(CultureInfo.InvariantCulture)).Append('\n')
                                .Append("event: ").Append(e.Type).Append('\n')
                                .Append("data: ").Append(JsonSerializer.Serialize(e, LedgerJson.Options)).Append("\n\n");
                        }

                        await WriteAsync(body, text.ToString(), cancellationToken).ConfigureAwait(false);
                        lastWrite = time.GetUtcNow();
                    }

                    if (events.Count == PageSize)
                    {
                        last = events[^1].Id;
                        continue;
                    }

                    last = Math.Max(ceiling, events.Count > 0 ? events[^1].Id : last);
                }

                if (time.GetUtcNow() - lastWrite >= settings.Heartbeat)
                {
                    await WriteAsync(body, ": keep-alive\n\n", cancellationToken).ConfigureAwait(false);
                    lastWrite = time.GetUtcNow();
                }

                await notifier.WaitAsync(key.ProjectId, last, settings.PollInterval, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away.
        }
        catch (IOException)
        {
            // The connection broke; the client resumes with Last-Event-ID.
        }
        catch (Exception ex) when (StoreUnavailableException.IsUnavailable(ex))
        {
            // The database went away after the stream began, so there is no status to change:
            // end the stream; the client reconnects with Last-Event-ID (retry: 2000) and gets a
            // 503 until the database is back, then everything it missed.
        }

        return Results.Empty;
    }

    private static async Task WriteAsync(Stream body, string text, CancellationToken cancellationToken)
    {
        await body.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken).ConfigureAwait(false);
        await body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>Timings of the live stream (<c>RunLedger:Stream</c>).</summary>
internal sealed class StreamSettings
{
    public const string Section = "RunLedger:Stream";

    /// <summary>A comment line is sent after this much silence.</summary>
    public TimeSpan Heartbeat { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The table is re-read at least this often even without a signal, so changes committed by
    /// another process on the same database still arrive.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    public IEnumerable<string> Validate()
    {
        if (Heartbeat <= TimeSpan.Zero)
        {
            yield return Section + ":Heartbeat must be a positive time such as 00:00:15.";
        }

        if (PollInterval <= TimeSpan.Zero)
        {
            yield return Section + ":PollInterval must be a positive time such as 00:00:01.";
        }
    }
}
