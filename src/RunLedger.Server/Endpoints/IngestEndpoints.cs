using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using RunLedger.Core;
using RunLedger.Core.Ingest;
using RunLedger.Core.Security;
using RunLedger.Core.Storage;
using RunLedger.Server.Auth;
using RunLedger.Server.Hosting;

namespace RunLedger.Server.Endpoints;

/// <summary><c>POST /v1/ingest</c>: runs, events and sessions, acknowledged only once durably committed.</summary>
internal static class IngestEndpoints
{
    public static void MapIngest(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/v1/ingest", IngestAsync)
            .RequireScope(KeyScopes.Ingest)
            .WithName("Ingest")
            .WithSummary("Store runs, events and sessions")
            .Accepts<IngestRequest>("application/json")
            .Produces<IngestResponse>(StatusCodes.Status200OK)
            .Produces<IngestResponse>(StatusCodes.Status207MultiStatus)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
    }

    internal static async Task<IResult> IngestAsync(
        HttpContext http,
        IngestPipeline pipeline,
        ILedgerStore store,
        IOptions<IngestOptions> options,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var limits = options.Value;
        var key = CallerKey.Get(http);
        if (http.Request.ContentLength > limits.MaxRequestBytes)
        {
            return TooLarge(limits);
        }

        if (http.Request.ContentType is { } contentType && !contentType.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            return Problems.Create(
                StatusCodes.Status415UnsupportedMediaType,
                "unsupported-media-type",
                "The body must be JSON.",
                $"Content-Type '{contentType}' is not accepted; send 'application/json'.");
        }

        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = limits.MaxRequestBytes;
        }

        IngestRequest? request;
        try
        {
            request = await JsonSerializer.DeserializeAsync<IngestRequest>(http.Request.Body, LedgerJson.Options, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            var field = ex.Path ?? "$";
            var where = ex.LineNumber is { } line ? string.Create(CultureInfo.InvariantCulture, $" (line {line + 1}, byte {ex.BytePositionInLine + 1})") : string.Empty;
            return Problems.BadRequest("invalid-json", $"The body is not a valid ingest request at {field}{where}: {Clean(ex.Message)}", field);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge(limits);
        }

        if (request is null)
        {
            return Problems.BadRequest("invalid-json", "The body must be a JSON object such as {\"runs\":[...],\"events\":[...],\"sessions\":[...]}.", "$");
        }

        var validator = new IngestValidator(limits);
        ValidatedRequest validated;
        try
        {
            validated = validator.Validate(request, key.ProjectId, "api", time.GetUtcNow());
        }
        catch (IngestRequestException ex)
        {
            return ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? Problems.Create(StatusCodes.Status413PayloadTooLarge, "too-many-items", "The request is too large.", ex.Message, new Dictionary<string, object?> { ["field"] = ex.Field })
                : Problems.BadRequest("field-too-large", ex.Message, ex.Field);
        }

        // Only the count is read after the commit: nothing that holds the request's JSON text
        // (the parsed request, the validated batch) lives across the await, so none of it waits
        // for the commit beside the prepared batch.
        var rejected = validated.Rejected.ToList();
        var accepted = 0;
        var count = validated.Batch.Count;
        if (count > 0)
        {
            try
            {
                var outcome = await pipeline.SubmitAsync(validated.Batch, cancellationToken).ConfigureAwait(false);
                rejected.AddRange(outcome.Rejected);
                accepted = count - outcome.Rejected.Count;
            }
            catch (IngestUnavailableException ex)
            {
                http.Response.Headers.RetryAfter = ((int)Math.Ceiling(ex.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                if (SchemaTooNewException.Find(ex) is { } tooNew)
                {
                    return Problems.Create(
                        StatusCodes.Status503ServiceUnavailable,
                        "replica-outdated",
                        "This server is older than its ledger; upgrade it.",
                        tooNew.Message);
                }

                if (StoreUnavailableException.IsUnavailable(ex))
                {
                    return Problems.Create(
                        StatusCodes.Status503ServiceUnavailable,
                        "store-unavailable",
                        "The database is not reachable right now.",
                        StoreUnavailableHandler.UnavailableDetail(store, limits) + " Nothing of this request is acknowledged; a run sent again with the same id updates that run, never duplicates it.");
                }

                return Problems.Unavailable(ex.Message);
            }
        }

        var response = new IngestResponse(accepted, rejected);
        return rejected.Count == 0
            ? TypedResults.Ok(response)
            : TypedResults.Json(response, statusCode: StatusCodes.Status207MultiStatus);
    }

    private static IResult TooLarge(IngestOptions limits) =>
        Problems.Create(
            StatusCodes.Status413PayloadTooLarge,
            "body-too-large",
            "The request is too large.",
            string.Create(CultureInfo.InvariantCulture, $"The body is over {limits.MaxRequestBytes} bytes (RunLedger:Ingest:MaxRequestBytes). Split it into smaller requests."));

    /// <summary>System.Text.Json messages name .NET types; keep the part a client can act on.</summary>
    private static string Clean(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        var text = cut > 0 ? message[..cut] : message;
        return text
            .Replace("System.Nullable`1[System.Decimal]", "a number", StringComparison.Ordinal)
            .Replace("System.Nullable`1[System.DateTimeOffset]", "an ISO 8601 time", StringComparison.Ordinal)
            .Replace("System.Nullable`1[System.Int64]", "an integer", StringComparison.Ordinal)
            .Replace("System.String", "a string", StringComparison.Ordinal)
            .Replace("System.Decimal", "a number", StringComparison.Ordinal)
            .Replace("System.DateTimeOffset", "an ISO 8601 time", StringComparison.Ordinal);
    }
}
