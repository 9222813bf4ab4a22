namespace RunLedger.Server;

/// <summary>Hosts the RunLedger HTTP server; <c>runledger serve</c> and the tests call this.</summary>
public static class LedgerServer
{
    /// <summary>Runs the server until <paramref name="cancellationToken"/> is cancelled or the process is stopped.</summary>
    public static Task<int> RunAsync(ServerOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        throw new NotImplementedException("The server host lands with the HTTP API.");
    }
}
