using System.Globalization;
using System.Text.Json.Serialization;
using RunLedger.Core.Ingest;
using RunLedger.Core.Storage;
using RunLedger.Server.Hosting;

namespace RunLedger.Server.Endpoints;

/// <summary>
/// <c>/healthz</c> (the process is alive; never touches the store, so an orchestrator does not
/// restart a server whose database is down) and <c>/readyz</c> (the store answers; 503 while it
/// does not, or while another replica has upgraded the ledger past this server's version, so a
/// load balancer sends traffic elsewhere). No key needed.
/// </summary>
internal static class HealthEndpoints
{
    public static void MapHealth(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/healthz", () => TypedResults.Ok(new HealthResponse("ok", null))).WithName("Health").ExcludeFromDescription();
        routes.MapGet("/readyz", ReadyAsync).WithName("Ready").ExcludeFromDescription();
    }

    private static async Task<IResult> ReadyAsync(HttpContext http, ILedgerStore store, IngestOptions ingest, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        bool ok;
        try
        {
            ok = await store.Reader.PingAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            ok = false;
        }
        catch (Exception ex) when (StoreUnavailableException.IsUnavailable(ex))
        {
            ok = false;
        }
        catch (SchemaTooNewException ex)
        {
            // Not ready until upgraded: a balancer sends traffic to the replicas that can write.
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, "replica-outdated", "This server is older than its ledger; upgrade it.", ex.Message);
        }

        if (ok)
        {
            long? unindexed = null;
            if (store is IFullTextIndexStatus index)
            {
                try
                {
                    unindexed = await index.CountUnindexedRunsAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // Ready all the same: the lag is extra information.
                }
                catch (Exception ex) when (StoreUnavailableException.IsUnavailable(ex))
                {
                }
            }

            return TypedResults.Ok(new HealthResponse("ready", store.Describe(), unindexed));
        }

        http.Response.Headers.RetryAfter = ingest.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return Problems.Create(
            StatusCodes.Status503ServiceUnavailable,
            "store-unavailable",
            "The store is unavailable.",
            StoreUnavailableHandler.UnavailableDetail(store, ingest));
    }
}

/// <param name="UnindexedRuns">Runs the full-text index has not reached yet (SQLite only; see operations.md).</param>
internal sealed record HealthResponse(
    string Status,
    string? Store,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? UnindexedRuns = null);
