using System.Globalization;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.Logging;
using RunLedger.Core.Ingest;
using RunLedger.Core.Storage;

namespace RunLedger.Server.Hosting;

/// <summary>
/// The one place that turns "the database is not there right now" into an answer: 503 with
/// Retry-After and a problem a person can act on, for every endpoint (reads, key look-ups, admin),
/// instead of a 500 with a stack trace in the log. It recognizes the condition store-agnostically
/// (<see cref="StoreUnavailableException.IsUnavailable"/>); anything else is left to the default
/// handler, which answers 500.
/// </summary>
internal sealed class StoreUnavailableHandler(
    IProblemDetailsService problems,
    ILedgerStore store,
    IngestOptions ingest,
    ILogger<StoreUnavailableHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!StoreUnavailableException.IsUnavailable(exception) || httpContext.Response.HasStarted)
        {
            return false;
        }

        Log.StoreUnavailable(logger, httpContext.Request.Method, httpContext.Request.Path, exception.GetBaseException().Message);
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = ingest.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Type = Problems.TypeBase + "store-unavailable",
                Title = "The database is not reachable right now.",
                Detail = UnavailableDetail(store, ingest),
            },
        }).ConfigureAwait(false);
    }

    /// <summary>What to tell a client while the store is away: every endpoint, ingest and <c>/readyz</c> say the same.</summary>
    internal static string UnavailableDetail(ILedgerStore store, IngestOptions ingest) =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"The server is running but its store ({store.Describe()}) does not answer. Retry after {ingest.RetryAfterSeconds} s: the server reconnects by itself when the database is back. If this lasts, check that the database server is up and reachable from this server.");
}
