namespace RunLedger.Cli;

/// <summary>An argument the parser accepted but the command cannot use (a bad duration, a bad scope).</summary>
internal sealed class CliUsageException : Exception
{
    public CliUsageException(string message)
        : base(message)
    {
    }

    public CliUsageException()
    {
    }

    public CliUsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
