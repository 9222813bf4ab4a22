namespace RunLedger.Cli;

/// <summary>The exit codes scripts can rely on (documented in docs/cli.md).</summary>
internal static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Ok = 0;

    /// <summary>The server answered with an error (404, 413, 429, 5xx ...), or a partial ingest.</summary>
    public const int ServerError = 1;

    /// <summary>Bad arguments, or the server refused a parameter or filter (400).</summary>
    public const int Usage = 2;

    /// <summary>The server could not be reached (connection refused, DNS, timeout).</summary>
    public const int Unreachable = 3;

    /// <summary>No key, a bad key, or a key without the scope the command needs (401/403).</summary>
    public const int NotAuthorized = 4;

    /// <summary>Interrupted with Ctrl+C (the shell convention 128 + SIGINT).</summary>
    public const int Interrupted = 130;
}
