using System.Text.Json;
using RunLedger.Core;
using RunLedger.Core.Ingest;

namespace RunLedger.Benchmarks;

/// <summary>
/// The simplest durable thing people do: one JSON file per run, written and then fsynced
/// (File.WriteAllBytes, then FileStream.Flush(true)).
/// </summary>
internal static class JsonFilesIngest
{
    public static IngestResult Run(IReadOnlyList<RunPayload> runs, string directory, bool extrapolated)
    {
        var clock = CpuClock.StartNew();
        foreach (var run in runs)
        {
            var path = Path.Combine(directory, run.Id + ".json");
            File.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(run, LedgerJson.Options));
            using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
            stream.Flush(flushToDisk: true);
        }

        return new IngestResult("JSON file per run (write + fsync)", 1, runs.Count, clock.Elapsed, extrapolated, clock.Cpu);
    }
}
