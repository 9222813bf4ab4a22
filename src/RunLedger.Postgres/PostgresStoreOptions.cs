namespace RunLedger.Postgres;

/// <summary>Settings of the PostgreSQL store.</summary>
public sealed class PostgresStoreOptions
{
    public const string Section = "RunLedger:Postgres";

    /// <summary>Most characters of input + output text fed to the full-text index per run.</summary>
    public int MaxIndexedChars { get; set; } = 64 * 1024;

    /// <summary>Monthly partitions of runs and events kept created ahead of the current month.</summary>
    public int PartitionMonthsAhead { get; set; } = 3;

    /// <summary>Seconds a statement may run before the server cancels it.</summary>
    public int CommandTimeoutSeconds { get; set; } = 60;

    public IEnumerable<string> Validate()
    {
        if (MaxIndexedChars < 1)
        {
            yield return $"{Section}:MaxIndexedChars must be at least 1.";
        }

        if (PartitionMonthsAhead is < 0 or > 120)
        {
            yield return $"{Section}:PartitionMonthsAhead must be between 0 and 120.";
        }

        if (CommandTimeoutSeconds < 1)
        {
            yield return $"{Section}:CommandTimeoutSeconds must be at least 1.";
        }
    }
}
