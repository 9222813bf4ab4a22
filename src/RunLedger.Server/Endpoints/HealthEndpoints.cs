using RunLedger.Core.Storage;

namespace RunLedger.Server.Endpoints;

/// <summary><c>/healthz</c> (the process is alive) and <c>/readyz</c> (the store answers). No key needed.</summary>
internal static class HealthEndpoints
{
    public static void MapHealth(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/healthz", () => TypedResults.Ok(new HealthResponse("ok", null))).WithName("Health").ExcludeFromDescription();
        routes.MapGet("/readyz", ReadyAsync).WithName("Ready").ExcludeFromDescription();
    }

    private static async Task<IResult> ReadyAsync(ILedgerStore store, CancellationToken cancellationToken)
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

        return ok
            ? TypedResults.Ok(new HealthResponse("ready", store.Describe()))
            : Problems.Unavailable($"The store ({store.Describe()}) does not answer.");
    }
}

internal sealed record HealthResponse(string Status, string? Store);
