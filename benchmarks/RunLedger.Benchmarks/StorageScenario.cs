using System.Globalization;
using RunLedger.Core.Payloads;
using RunLedger.Sqlite;

namespace RunLedger.Benchmarks;

/// <summary>
/// Bytes on disk per run after ingesting the same runs into RunLedger with payload deduplication
/// on and off, and with bodies compressed one by one with Brotli instead of with the ledger's
/// zstd dictionaries, and with the full-text index without word positions, against the raw JSON
/// size of those runs.
/// </summary>
internal sealed class StorageScenario : IScenario
{
    public string Name => "storage";

    public string Description => "bytes on disk per run (dedupe on/off, dictionaries off, no word positions) vs the raw JSON of the same runs";

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
        IReadOnlyList<(string Name, long Bytes)>? breakdown = null;
        var variants = new (string Label, string Metric, PayloadOptions Options, SqliteStoreOptions? Store)[]
        {
            ("RunLedger SQLite, dedupe on", "dedupe_on_bytes", new PayloadOptions(), null),
            ("RunLedger SQLite, dedupe off", "dedupe_off_bytes", new PayloadOptions { Deduplicate = false }, null),
            ("RunLedger SQLite, dedupe on, no dictionaries (Brotli per body)", "no_dictionaries_bytes", new PayloadOptions { UseDictionaries = false }, null),
            // The opt-in full-text index without word positions: smaller, slower phrase search.
            ("RunLedger SQLite, dedupe on, no word positions (FullTextPositions=false)", "no_positions_bytes", new PayloadOptions(), new SqliteStoreOptions { FullTextPositions = false }),
        };
        foreach (var (label, metric, options, store) in variants)
        {
            // Where the bytes go is read for the first variant only (dbstat walks every page).
            var (bytes, rate, objects) = await IngestAndMeasureAsync(data, options, store, breakdown is null, cancellationToken).ConfigureAwait(false);
            breakdown ??= objects;
            var percent = (double)bytes / raw * 100;
            dedupePercent ??= percent;
            report.Rows.Add([label, Fmt.Int(data.Runs.Count), Fmt.Int(bytes), Fmt.Int(bytes / data.Runs.Count), Fmt.Number(percent, "0.0") + " %", Fmt.Rate(rate)]);
            report.Metrics[metric] = bytes;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {label}: {bytes:N0} bytes ({percent:0.0} % of raw), ingested at {rate:N0} runs/s"));
        }

        if (breakdown is { Count: > 0 })
        {
            // The biggest objects by name, the rest summed: what a saving has to come from.
            var shown = breakdown.Take(12).Select(o => string.Create(CultureInfo.InvariantCulture, $"{o.Name} {(double)o.Bytes / raw * 100:0.0} %"));
            var rest = breakdown.Skip(12).Sum(o => o.Bytes);
            report.Notes.Add("Where the bytes go, dedupe on (SQLite dbstat through the sqlite3 shell: pages of each table and index times the page size, as % of the raw JSON): "
                + string.Join(", ", shown) + string.Create(CultureInfo.InvariantCulture, $", everything else {(double)rest / raw * 100:0.0} %."));
            foreach (var (name, objectBytes) in breakdown)
            {
                report.Metrics["object_bytes_" + name] = objectBytes;
            }
        }

        report.Summary.Add(SummaryLine.Check("bytes on disk / raw JSON, dedupe on (%)", dedupePercent!.Value, "0.0", 20, false, "<= 20 %"));
        report.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"{Fmt.Int(data.Runs.Count)} runs (and their {Fmt.Int(data.Sessions.Count)} sessions) from the seeded workload generator (seed 42), ingested through the in-process pipeline in batches of 1000; no events are sent, the ledger records its own run.completed/failed/timeout event for each finished run."));
        report.Notes.Add("Bytes on disk = the ledger file and its full-text index file (<ledger>.fts), each database + WAL after PRAGMA wal_checkpoint(TRUNCATE); includes indexes, rollups and the full-text index. No VACUUM.");
        report.Notes.Add("No word positions = dedupe on with RunLedger:Sqlite:FullTextPositions = false: the full-text index keeps no word positions (FTS5 detail=none), so a phrase of several words is checked against the bodies of every run holding all its words (the query benchmark's \"team plan\"). The other rows use the default (positions kept).");
        report.Notes.Add("Raw JSON = each RunPayload serialized with RunLedger.Core.LedgerJson.Options, summed (no whitespace).");
        return report;
    }

    private static async Task<(long Bytes, double RunsPerSecond, IReadOnlyList<(string Name, long Bytes)>? Objects)> IngestAndMeasureAsync(WorkloadData data, PayloadOptions payloads, SqliteStoreOptions? store, bool breakdown, CancellationToken cancellationToken)
    {
        using var dir = new TempDirectory("storage");
        var ledger = await InProcessLedger.OpenAsync(dir.Path, payloads, cancellationToken, store).ConfigureAwait(false);
        await using (ledger.ConfigureAwait(false))
        {
            foreach (var sessions in data.SessionBatches())
            {
                await ledger.SubmitAsync(sessions, cancellationToken).ConfigureAwait(false);
            }

            var (elapsed, _) = await Submitters.RunAsync(data.RunBatches(1000), 4, (_, request) => ledger.SubmitAsync(request, cancellationToken)).ConfigureAwait(false);
            var bytes = await ledger.CloseAndMeasureAsync().ConfigureAwait(false);
            var objects = breakdown
                ? [.. SpaceBreakdown.Measure(ledger.DatabasePath!).Concat(SpaceBreakdown.Measure(ledger.SearchIndexPath!)).OrderByDescending(o => o.Bytes)]
                : (IReadOnlyList<(string Name, long Bytes)>?)null;
            return (bytes, data.Runs.Count / elapsed.TotalSeconds, objects);
        }
    }
}
