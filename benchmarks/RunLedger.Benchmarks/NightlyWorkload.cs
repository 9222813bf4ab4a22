using RunLedger.Core.Ingest;
using RunLedger.Core.Workload;

namespace RunLedger.Benchmarks;

/// <summary>
/// The deterministic workload spread over many nights, so 7- and 30-day windows hold data: night
/// n (0 = oldest) is the generator's overnight traffic starting <see cref="LastNightStart"/> minus
/// (nights - 1 - n) days, seeded with seed + n. Streamed night by night: a million runs never sit
/// in memory at once.
/// </summary>
internal sealed class NightlyWorkload
{
    /// <summary>The start of the newest night.</summary>
    public static readonly DateTimeOffset LastNightStart = new(2026, 11, 21, 22, 0, 0, TimeSpan.Zero);

    public NightlyWorkload(int runs, int nights, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, nights);
        Runs = runs;
        Nights = nights;
        Seed = seed;
    }

    public int Runs { get; }

    public int Nights { get; }

    public int Seed { get; }

    /// <summary>"Now" for the queries: a little after the newest night ended, on no bucket edge.</summary>
    public static DateTimeOffset Now => LastNightStart + new TimeSpan(0, 8, 7, 13, 517);

    /// <summary>Every request of every night, oldest night first: its sessions, runs, then events.</summary>
    public IEnumerable<IngestRequest> Requests(int batchSize)
    {
        for (var night = 0; night < Nights; night++)
        {
            var runs = (Runs / Nights) + (night < Runs % Nights ? 1 : 0);
            var generator = new WorkloadGenerator(new WorkloadOptions
            {
                Seed = Seed + night,
                NightStart = LastNightStart.AddDays(night - (Nights - 1)),
                TargetRuns = runs,
                Sessions = Math.Max(1, runs / 2000),
            });
            foreach (var request in generator.Generate(batchSize))
            {
                yield return request;
            }
        }
    }
}
