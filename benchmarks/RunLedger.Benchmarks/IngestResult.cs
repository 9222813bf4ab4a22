namespace RunLedger.Benchmarks;

/// <summary>
/// One contender's timed ingest: wall-clock time to the last acknowledgement and the process CPU
/// time it used (including work it finishes after acknowledging, such as indexing).
/// </summary>
internal sealed record IngestResult(string Contender, int BatchSize, int Runs, TimeSpan Elapsed, bool Extrapolated, TimeSpan Cpu)
{
    public double RunsPerSecond => Runs / Elapsed.TotalSeconds;

    /// <summary>Process CPU microseconds per run: steadier than the rate on a shared machine.</summary>
    public double CpuMicrosPerRun => Cpu.TotalMicroseconds / Runs;

    /// <summary>Time spent compiling methods during the timed section (part of <see cref="Cpu"/>), when measured.</summary>
    public TimeSpan? JitTime { get; init; }

    /// <summary>Methods compiled or recompiled during the timed section, when measured.</summary>
    public long? JitMethods { get; init; }

    /// <summary>Managed bytes allocated during the timed section, when measured.</summary>
    public long? Allocated { get; init; }

    /// <summary>Garbage collection pause time and collections (gen 0/1/2) during the timed section, when measured.</summary>
    public string? Gc { get; init; }

    /// <summary>The round of an interleaved measurement (1, 2, ...), or 0 when measured once.</summary>
    public int Round { get; init; }

    /// <summary>CPU time of the database server during the timed section, when measured (PostgreSQL).</summary>
    public TimeSpan? ServerCpu { get; init; }

    /// <summary>Server CPU microseconds per run, when measured.</summary>
    public double? ServerCpuMicrosPerRun => ServerCpu is { } cpu ? cpu.TotalMicroseconds / Runs : null;
}
