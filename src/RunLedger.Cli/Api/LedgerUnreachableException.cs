namespace RunLedger.Cli.Api;

/// <summary>No HTTP answer came back: the connection was refused, the name did not resolve, or it timed out.</summary>
public sealed class LedgerUnreachableException : Exception
{
    public LedgerUnreachableException(Uri server, Exception innerException)
        : base($"Cannot reach the RunLedger server at {server}: {innerException.Message}", innerException)
    {
        Server = server;
    }

    public LedgerUnreachableException()
        : this("Cannot reach the RunLedger server.")
    {
    }

    public LedgerUnreachableException(string message)
        : base(message)
    {
        Server = new Uri("http://127.0.0.1:5170");
    }

    public LedgerUnreachableException(string message, Exception innerException)
        : base(message, innerException)
    {
        Server = new Uri("http://127.0.0.1:5170");
    }

    public Uri Server { get; }
}
