using RunLedger.Core.Ingest;
using RunLedger.Core.Workload;

namespace RunLedger.Cli.Demo;

/// <summary>The overnight workload <c>runledger demo</c> sends: the shared deterministic generator.</summary>
internal static class DemoWorkload
{
    /// <summary>Yields the workload in ingest batches of about <paramref name="batchSize"/> items.</summary>
    public static IEnumerable<IngestRequest> Generate(int seed, int runs, DateTimeOffset nightStart, int batchSize) =>
        new WorkloadGenerator(new WorkloadOptions
        {
            Seed = seed,
            NightStart = nightStart,
            TargetRuns = runs,
            Sessions = Math.Clamp(runs / 80, 1, 8),
        }).Generate(batchSize);
}
