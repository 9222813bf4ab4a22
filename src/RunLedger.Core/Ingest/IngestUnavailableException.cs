namespace RunLedger.Core.Ingest;

/// <summary>
/// The ledger cannot take the write now: the queue is full or the store failed. Nothing of the
/// request was acknowledged; the client should retry after <see cref="RetryAfter"/>.
/// </summary>
public sealed class IngestUnavailableException : Exception
{
    public IngestUnavailableException(string message, TimeSpan retryAfter, bool queueFull, Exception? innerException = null)
        : base(message, innerException)
    {
        RetryAfter = retryAfter;
        QueueFull = queueFull;
    }

    public IngestUnavailableException()
        : this("The ledger is unavailable.", TimeSpan.FromSeconds(1), false)
    {
    }

    public IngestUnavailableException(string message)
        : this(message, TimeSpan.FromSeconds(1), false)
    {
    }

    public IngestUnavailableException(string message, Exception innerException)
        : this(message, TimeSpan.FromSeconds(1), false, innerException)
    {
    }

    public TimeSpan RetryAfter { get; }

    /// <summary>True when the writer queue was full (429); false when the store failed (503).</summary>
    public bool QueueFull { get; }
}
