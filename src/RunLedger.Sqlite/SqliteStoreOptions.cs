namespace RunLedger.Sqlite;

/// <summary>Settings of the embedded SQLite store.</summary>
public sealed class SqliteStoreOptions
{
    public const string Section = "RunLedger:Sqlite";

    /// <summary>The database file. Relative paths are under the data directory.</summary>
    public string Path { get; set; } = "runledger.db";

    /// <summary>
    /// <c>FULL</c> (default): every acknowledged commit survives a power cut. <c>NORMAL</c>: a
    /// commit survives a process crash but the last ones may be lost on power loss.
    /// </summary>
    public string Synchronous { get; set; } = "FULL";

    /// <summary>Page cache of the writer connection, in MiB.</summary>
    public int CacheSizeMb { get; set; } = 64;

    /// <summary>How long a connection waits for a lock held by another process, in milliseconds.</summary>
    public int BusyTimeoutMs { get; set; } = 5000;

    /// <summary>Most characters of input + output text fed to the full-text index per run.</summary>
    public int MaxIndexedChars { get; set; } = 64 * 1024;

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(Path))
        {
            yield return $"{Section}:Path must name a file.";
        }

        if (!string.Equals(Synchronous, "FULL", StringComparison.OrdinalIgnoreCase)
            && !string.Equals(Synchronous, "NORMAL", StringComparison.OrdinalIgnoreCase)
            && !string.Equals(Synchronous, "EXTRA", StringComparison.OrdinalIgnoreCase))
        {
            yield return $"{Section}:Synchronous must be FULL, NORMAL or EXTRA (is '{Synchronous}').";
        }

        if (CacheSizeMb < 1)
        {
            yield return $"{Section}:CacheSizeMb must be at least 1.";
        }

        if (BusyTimeoutMs < 0)
        {
            yield return $"{Section}:BusyTimeoutMs cannot be negative.";
        }
    }
}
