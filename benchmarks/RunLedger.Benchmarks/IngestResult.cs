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

    /// <summary>CPU time of the database server during the timed section, when measured (PostgreSQL).</summary>
    public TimeSpan? ServerCpu { get; init; }

    /// <summary>Server CPU microseconds per run, when measured.</summary>
    public double? ServerCpuMicrosPerRun => ServerCpu is { } cpu ? cpu.TotalMicroseconds / Runs : null;
}
