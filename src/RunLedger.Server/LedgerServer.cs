namespace RunLedger.Server;

/// <summary>Hosts the RunLedger HTTP server; <c>runledger serve</c> calls this.</summary>
public static class LedgerServer
{
    /// <summary>Runs the server until <paramref name="cancellationToken"/> is cancelled or the process is stopped.</summary>
    public static async Task<int> RunAsync(ServerOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        await using var app = LedgerHost.Build(options);
        await LedgerHost.StartAsync(app, cancellationToken).ConfigureAwait(false);
        await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        return 0;
    }
}
