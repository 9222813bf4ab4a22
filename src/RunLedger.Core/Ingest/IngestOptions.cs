namespace RunLedger.Core.Ingest;

/// <summary>Limits and tuning of the ingest path. Every limit is an option; defaults are in code.</summary>
public sealed class IngestOptions
{
    public const string Section = "RunLedger:Ingest";

    /// <summary>Largest request body accepted by <c>POST /v1/ingest</c> (413 above it).</summary>
    public long MaxRequestBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>Most runs + events + sessions in one request (413 above it).</summary>
    public int MaxItemsPerRequest { get; set; } = 10_000;

    /// <summary>How many requests may wait for the writer; beyond it ingest answers 503 with Retry-After.</summary>
    public int QueueCapacity { get; set; } = 256;

    /// <summary>Most items the writer commits in one transaction (group commit).</summary>
    public int MaxItemsPerCommit { get; set; } = 20_000;

    /// <summary>Seconds a client is told to wait when the queue is full.</summary>
    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>Longest name, model, provider, user, session id or tag (characters).</summary>
    public int MaxShortFieldLength { get; set; } = 512;

    /// <summary>Most tags on one run.</summary>
    public int MaxTags { get; set; } = 64;

    /// <summary>Largest metadata or parameters object (bytes of JSON).</summary>
    public int MaxMetadataBytes { get; set; } = 64 * 1024;

    /// <summary>Largest error message or stack (characters).</summary>
    public int MaxErrorLength { get; set; } = 256 * 1024;

    /// <summary>Largest event data (bytes of JSON).</summary>
    public int MaxEventDataBytes { get; set; } = 256 * 1024;

    /// <summary>Largest input or output accepted at all (bytes of JSON); bodies between
    /// <c>Payloads:MaxBodyBytes</c> and this are stored truncated with a marker.</summary>
    public long MaxBodyFieldBytes { get; set; } = 16L * 1024 * 1024;

    public IEnumerable<string> Validate()
    {
        if (MaxRequestBytes < 1024)
        {
            yield return $"{Section}:MaxRequestBytes must be at least 1024 (is {MaxRequestBytes}).";
        }

        if (MaxItemsPerRequest < 1)
        {
            yield return $"{Section}:MaxItemsPerRequest must be at least 1 (is {MaxItemsPerRequest}).";
        }

        if (QueueCapacity < 1)
        {
            yield return $"{Section}:QueueCapacity must be at least 1 (is {QueueCapacity}).";
        }

        if (MaxItemsPerCommit < 1)
        {
            yield return $"{Section}:MaxItemsPerCommit must be at least 1 (is {MaxItemsPerCommit}).";
        }

        if (RetryAfterSeconds < 1)
        {
            yield return $"{Section}:RetryAfterSeconds must be at least 1 (is {RetryAfterSeconds}).";
        }

        if (MaxShortFieldLength < 16)
        {
            yield return $"{Section}:MaxShortFieldLength must be at least 16 (is {MaxShortFieldLength}).";
        }
    }
}
