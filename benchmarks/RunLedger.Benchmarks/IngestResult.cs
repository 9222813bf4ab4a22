namespace RunLedger.Benchmarks;

/// <summary>One contender's timed ingest.</summary>
internal sealed record IngestResult(string Contender, int BatchSize, int Runs, TimeSpan Elapsed, bool Extrapolated)
{
    public double RunsPerSecond => Runs / Elapsed.TotalSeconds;

    /// <summary>CPU time of this process during the timed section, when measured.</summary>
    public TimeSpan? ClientCpu { get; init; }

    /// <summary>CPU time of the database server during the timed section, when measured.</summary>
    public TimeSpan? ServerCpu { get; init; }

    /// <summary>Server CPU microseconds per run, when measured.</summary>
    public double? ServerCpuMicrosPerRun => ServerCpu is { } cpu ? cpu.TotalMicroseconds / Runs : null;

    /// <summary>Client CPU microseconds per run, when measured.</summary>
    public double? CpuMicrosPerRun => ClientCpu is { } cpu ? cpu.TotalMicroseconds / Runs : null;
}
