using System.Text.Json;
using RunLedger.Core;
using RunLedger.Core.Ingest;
using RunLedger.Core.Workload;

namespace RunLedger.Benchmarks;

/// <summary>
/// The sessions and runs of the deterministic workload, materialized once so every contender gets
/// exactly the same data. Events are not part of these scenarios.
/// </summary>
internal sealed class WorkloadData
{
    private WorkloadData(IReadOnlyList<SessionPayload> sessions, IReadOnlyList<RunPayload> runs)
    {
        Sessions = sessions;
        Runs = runs;
    }

    public IReadOnlyList<SessionPayload> Sessions { get; }

    public IReadOnlyList<RunPayload> Runs { get; }

    public static WorkloadData Generate(int runs, int seed = 42)
    {
        var generator = new WorkloadGenerator(new WorkloadOptions
        {
            Seed = seed,
            NightStart = new DateTimeOffset(2026, 11, 21, 22, 0, 0, TimeSpan.Zero),
            TargetRuns = runs,
            Sessions = Math.Max(1, runs / 2000),
        });
        var sessions = new List<SessionPayload>();
        var runList = new List<RunPayload>(runs);
        foreach (var request in generator.Generate(1000))
        {
            if (request.Events is { Count: > 0 })
            {
                break; // events come last; these scenarios stop before them
            }

            sessions.AddRange(request.Sessions ?? []);
            runList.AddRange(request.Runs ?? []);
        }

        return new WorkloadData(sessions, runList);
    }

    /// <summary>The runs cut into ingest requests of <paramref name="batchSize"/>, in workload order.</summary>
    public IReadOnlyList<IngestRequest> RunBatches(int batchSize, int? limit = null) =>
        [.. Runs.Take(limit ?? Runs.Count).Chunk(batchSize).Select(chunk => new IngestRequest { Runs = [.. chunk] })];

    /// <summary>Sessions as ingest requests of at most 1000.</summary>
    public IReadOnlyList<IngestRequest> SessionBatches() =>
        [.. Sessions.Chunk(1000).Select(chunk => new IngestRequest { Sessions = [.. chunk] })];

    /// <summary>Each run serialized as RunLedger's wire JSON: the "raw JSON" size of the data.</summary>
    public long RawJsonBytes(int? limit = null) =>
        Runs.Take(limit ?? Runs.Count).Sum(run => (long)JsonSerializer.SerializeToUtf8Bytes(run, LedgerJson.Options).Length);
}
