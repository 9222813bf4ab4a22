using System.Globalization;
using RunLedger.Core.Payloads;

namespace RunLedger.Benchmarks;

/// <summary>
/// Bytes on disk per run after ingesting the same runs into RunLedger with payload deduplication
/// on and off, and with bodies compressed one by one with Brotli instead of with the ledger's
/// zstd dictionaries, against the raw JSON size of those runs.
/// </summary>
internal sealed class StorageScenario : IScenario
{
    public string Name => "storage";

    public string Description => "bytes on disk per run (dedupe on/off, dictionaries off) vs the raw JSON of the same runs";

    public async Task<ScenarioReport> RunAsync(BenchmarkArguments arguments, CancellationToken cancellationToken)
    {
        var runCount = arguments.RunCount(20_000, 100_000);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"storage: generating {runCount} runs..."));
        var data = WorkloadData.Generate(runCount);
        var raw = data.RawJsonBytes();
        var report = new ScenarioReport
        {
            Scenario = "storage",
            Title = "Storage: bytes on disk per run",
            Command = "dotnet run -c Release --project benchmarks/RunLedger.Benchmarks -- storage" + IngestScenario.Flags(arguments),
            Columns = ["store", "runs", "bytes", "bytes/run", "% of raw JSON", "ingest runs/s"],
        };
        report.Rows.Add(["raw JSON (RunPayload, LedgerJson.Options)", Fmt.Int(data.Runs.Count), Fmt.Int(raw), Fmt.Int(raw / data.Runs.Count), "100.0 %", "-"]);
        report.Metrics["raw_json_bytes"] = raw;

        double? dedupePercent = null;
        var variants = new (string Label, string Metric, PayloadOptions Options)[]
        {
            ("RunLedger SQLite, dedupe on", "dedupe_on_bytes", new PayloadOptions()),
            ("RunLedger SQLite, dedupe off", "dedupe_off_bytes", new PayloadOptions { Deduplicate = false }),
            ("RunLedger SQLite, dedupe on, no dictionaries (Brotli per body)", "no_dictionaries_bytes", new PayloadOptions { UseDictionaries = false }),
        };
        foreach (var (label, metric, options) in variants)
        {
            var (bytes, rate) = await IngestAndMeasureAsync(data, options, cancellationToken).ConfigureAwait(false);
            var percent = (double)bytes / raw * 100;
            dedupePercent ??= percent;
            report.Rows.Add([label, Fmt.Int(data.Runs.Count), Fmt.Int(bytes), Fmt.Int(bytes / data.Runs.Count), Fmt.Number(percent, "0.0") + " %", Fmt.Rate(rate)]);
            report.Metrics[metric] = bytes;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {label}: {bytes:N0} bytes ({percent:0.0} % of raw), ingested at {rate:N0} runs/s"));
        }

        report.Summary.Add(SummaryLine.Check("bytes on disk / raw JSON, dedupe on (%)", dedupePercent!.Value, "0.0", 20, false, "<= 20 %"));
        report.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"{Fmt.Int(data.Runs.Count)} runs (and their {Fmt.Int(data.Sessions.Count)} sessions) from the seeded workload generator (seed 42), ingested through the in-process pipeline in batches of 1000; no events."));
        report.Notes.Add("Bytes on disk = database file + WAL after PRAGMA wal_checkpoint(TRUNCATE); includes indexes, rollups and the full-text index. No VACUUM.");
        report.Notes.Add("Raw JSON = each RunPayload serialized with RunLedger.Core.LedgerJson.Options, summed (no whitespace).");
        return report;
    }

    private static async Task<(long Bytes, double RunsPerSecond)> IngestAndMeasureAsync(WorkloadData data, PayloadOptions payloads, CancellationToken cancellationToken)
    {
        using var dir = new TempDirectory("storage");
        var ledger = await InProcessLedger.OpenAsync(dir.Path, payloads, cancellationToken).ConfigureAwait(false);
        await using (ledger.ConfigureAwait(false))
        {
            foreach (var sessions in data.SessionBatches())
            {
                await ledger.SubmitAsync(sessions, cancellationToken).ConfigureAwait(false);
            }

            var (elapsed, _) = await Submitters.RunAsync(data.RunBatches(1000), 4, (_, request) => ledger.SubmitAsync(request, cancellationToken)).ConfigureAwait(false);
            var bytes = await ledger.CloseAndMeasureAsync().ConfigureAwait(false);
            return (bytes, data.Runs.Count / elapsed.TotalSeconds);
        }
    }
}
