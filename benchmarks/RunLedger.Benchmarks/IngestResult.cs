namespace RunLedger.Benchmarks;

/// <summary>One contender's timed ingest.</summary>
internal sealed record IngestResult(string Contender, int BatchSize, int Runs, TimeSpan Elapsed, bool Extrapolated)
{
    public double RunsPerSecond => Runs / Elapsed.TotalSeconds;
}
