using System.Diagnostics;
using System.Globalization;
using RunLedger.Core.Payloads;
using RunLedger.Core.Query;
using RunLedger.Core.Storage;
using RunLedger.Sqlite;

namespace RunLedger.Benchmarks;

/// <summary>
/// Query latency (p50/p95) on a ledger of 1M runs (100k with --quick) spread over 35 nights:
/// list pages, stats windows, full-text search (a word and phrases), run and session detail, the newest events; and
/// "runs for repository X" against a scan of one JSON file per run.
/// </summary>
internal sealed class QueryScenario : IScenario
{
    private const int Nights = 35;
    private const int Seed = 42;
    private const int PageSize = 50;
    private const int JsonBaselineRuns = 100_000;
    private const string Repository = "acme/api";
    private const string TeamPlanQuery = "full-text phrase, words apart only (\"team plan\")";

    public string Name => "query";

    public string Description => "p50/p95 of dashboard and analyst queries at 1M runs vs a JSON-files scan";

    public async Task<ScenarioReport> RunAsync(BenchmarkArguments arguments, CancellationToken cancellationToken)
    {
        var runCount = arguments.RunCount(100_000, 1_000_000);
        var workload = new NightlyWorkload(runCount, Nights, Seed);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"query: {runCount:N0} runs over {Nights} nights (seed {Seed})"));
        var (directory, loadTime) = await QueryDatabase.EnsureAsync(workload, cancellationToken).ConfigureAwait(false);
        var jsonRuns = Math.Min(runCount, JsonBaselineRuns);
        var jsonDirectory = QueryDatabase.EnsureJsonFiles(workload, jsonRuns);

        var results = new List<(LatencyResult Result, double? TargetMs, string Target)>();
        double ledgerRepositoryMs;
        // Metadata filters need no option: one index on the runs' metadata key serves every key.
        var ledger = await InProcessLedger.OpenAsync(directory, new PayloadOptions(), cancellationToken, new SqliteStoreOptions()).ConfigureAwait(false);
        TimeSpan catchUp;
        await using (ledger.ConfigureAwait(false))
        {
            // Search is measured on a complete index, not while it is (re)built in the background.
            catchUp = await ledger.WaitUntilIndexedAsync(cancellationToken).ConfigureAwait(false);
            if (catchUp > TimeSpan.FromSeconds(1))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  the full-text index caught up {catchUp.TotalSeconds:0.0} s after opening"));
            }

            // The dashboard queries' target is 2 ms p95 at 1M runs and 10 ms at 10M.
            var dashboardTargetMs = runCount >= 10_000_000 ? 10 : 2;
            var queries = new LedgerQueries(ledger.Reader, ledger.ProjectId, dashboardTargetMs, cancellationToken);
            await queries.PrepareAsync().ConfigureAwait(false);
            foreach (var (name, query, target) in queries.All())
            {
                var result = await LatencyProbe.MeasureAsync(name, query).ConfigureAwait(false);
                Print(result);
                results.Add((result, target, target is null ? "" : string.Create(CultureInfo.InvariantCulture, $"p95 < {target} ms")));
            }

            // The worst case of a phrase for the index without word positions (FullTextPositions=false):
            // both words are in 30 % of the runs (the shared system prompts), next to each other in
            // none, so there every run that has both is read to say no. Measured with the default.
            var apart = await LatencyProbe.MeasureAsync(TeamPlanQuery, queries.NeverAdjacentPhrase(), minCalls: 5, maxCalls: 30).ConfigureAwait(false);
            Print(apart);
            results.Add((apart, null, ""));

            var repository = await LatencyProbe.MeasureAsync("runs for repository X (RunLedger)", queries.RunsForRepository(Repository)).ConfigureAwait(false);
            ledgerRepositoryMs = repository.P50Ms;
            results.Add((repository, null, ""));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {repository.Query,-45} p50 {repository.P50Ms,8:0.000} ms  p95 {repository.P95Ms,8:0.000} ms"));
        }

        var scan = await LatencyProbe.MeasureAsync(
            "runs for repository X (JSON files scan)",
            _ => Task.FromResult<string?>(JsonFilesScan.RunsForRepository(jsonDirectory, Repository, PageSize).ToString(CultureInfo.InvariantCulture) + " runs"),
            minCalls: 3,
            maxCalls: 5,
            budget: TimeSpan.Zero,
            warmUp: TimeSpan.Zero).ConfigureAwait(false);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {scan.Query,-45} p50 {scan.P50Ms,8:0.0} ms over {jsonRuns:N0} files"));
        results.Add((scan, null, ""));

        return BuildReport(arguments, runCount, jsonRuns, loadTime, catchUp, directory, results, ledgerRepositoryMs, scan.P50Ms);
    }

    /// <summary>One query's console line: latency, CPU per call, calls and what it answered.</summary>
    private static void Print(LatencyResult result) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {result.Query,-45} p50 {result.P50Ms,8:0.000} ms  p95 {result.P95Ms,8:0.000} ms  cpu {result.CpuMs,8:0.000} ms  ({result.Calls} calls) {result.Detail}"));

    private static ScenarioReport BuildReport(
        BenchmarkArguments arguments, int runCount, int jsonRuns, TimeSpan? loadTime, TimeSpan catchUp, string directory,
        List<(LatencyResult Result, double? TargetMs, string Target)> results, double ledgerRepositoryMs, double scanMs)
    {
        var report = new ScenarioReport
        {
            Scenario = "query",
            Title = "Query: latency at " + Fmt.Int(runCount) + " runs",
            Command = "dotnet run -c Release --project benchmarks/RunLedger.Benchmarks -- query" + IngestScenario.Flags(arguments),
            Columns = ["query", "calls", "p50 ms", "p95 ms", "CPU ms/call", "answer", "target", "verdict"],
        };
        foreach (var (r, target, targetText) in results)
        {
            report.Rows.Add(
            [
                r.Query,
                Fmt.Int(r.Calls),
                Fmt.Number(r.P50Ms, "0.000"),
                Fmt.Number(r.P95Ms, "0.000"),
                Fmt.Number(r.CpuMs, "0.000"),
                r.Detail ?? "",
                targetText,
                target is { } t ? (r.P95Ms < t ? "met" : "MISSED") : "-",
            ]);
            var key = new string([.. r.Query.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_')]).Trim('_');
            report.Metrics[key + "_p50_ms"] = Math.Round(r.P50Ms, 3);
            report.Metrics[key + "_p95_ms"] = Math.Round(r.P95Ms, 3);
            report.Metrics[key + "_cpu_ms"] = Math.Round(r.CpuMs, 3);
        }

        foreach (var (r, target, targetText) in results.Where(x => x.TargetMs is not null))
        {
            report.Summary.Add(SummaryLine.Check(r.Query + ", p95 ms", r.P95Ms, "0.000", target!.Value, false, "< " + Fmt.Number(target.Value, "0") + " ms"));
        }

        var ratio = scanMs / ledgerRepositoryMs;
        report.Summary.Add(SummaryLine.Check(
            string.Create(CultureInfo.InvariantCulture, $"runs for repository X: JSON scan of {Fmt.Int(jsonRuns)} files / RunLedger at {Fmt.Int(runCount)} (x, p50)"),
            ratio, "0", 1000, true, ">= 1000x"));
        report.Metrics["repository_scan_ratio"] = Math.Round(ratio, 1);
        if (loadTime is { } load)
        {
            report.Metrics["load_seconds"] = Math.Round(load.TotalSeconds, 1);
        }

        if (catchUp > TimeSpan.FromSeconds(1))
        {
            report.Metrics["index_catch_up_seconds"] = Math.Round(catchUp.TotalSeconds, 1);
            report.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"The full-text index file was built in the background after opening (missing, or of another layout): it covered every run {catchUp.TotalSeconds:0} s later ({runCount / catchUp.TotalSeconds:N0} runs/s), and the queries were measured after that."));
        }

        var dbBytes = new DirectoryInfo(directory).EnumerateFiles("runledger.db*").Sum(f => f.Length);
        report.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"{Fmt.Int(runCount)} runs (with their sessions and events) from the seeded workload generator over {Nights} nights (night n seeded 42 + n), written through the in-process ingest pipeline in requests of 1000 by 4 submitters; database {Fmt.Int(dbBytes / (1024 * 1024))} MiB."));
        report.Notes.Add(loadTime is { } t2
            ? string.Create(CultureInfo.InvariantCulture, $"Loading took {t2.TotalSeconds:0} s ({runCount / t2.TotalSeconds:N0} runs/s); the database is kept in benchmarks/.cache (git-ignored, keyed by seed, nights, run count and a hash of the SQLite migrations) and reused by later runs.")
            : "The database was reused from benchmarks/.cache (keyed by seed, nights, run count and a hash of the SQLite migrations); delete that directory to measure loading again.");
        report.Notes.Add("Each query: untimed warm-up calls for 2 s (so tiered compilation has swapped in optimized code, as in a server that has been up for a while), then calls one after another for at least 30 calls and 3 s (at most 2000); run detail and session summary rotate over 100 ids. p50/p95 are nearest-rank over those calls, measured through the store's reader (ILedgerReader) in this process, without HTTP. CPU ms/call is this process's CPU time over the timed calls divided by their number: it moves much less than latency when the machine is shared.");
        report.Notes.Add("\"Now\" is 8 h 7 min after the newest night started, on no bucket edge, so stats windows are ragged at both ends like a dashboard's \"last 30 days\".");
        report.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"runs for repository X: first page ({PageSize}) of metadata.repository:\"{Repository}\", newest first (runs refer to their metadata by key; the filter lists the matching keys and, from their run counts, finds the runs through the metadata-key index or walks the time index). The baseline reads and parses one JSON file per run ({Fmt.Int(jsonRuns)} files, the first runs of the same workload, files in the OS cache after the first call) and sorts the matches; median of 3-5 calls."));
        report.Notes.Add("The machine was shared with other builds and tests while measuring; figures are noisy, ratios are measured in one process.");
        return report;
    }

    /// <summary>The queries, built against one reader and a few ids picked from the data.</summary>
    private sealed class LedgerQueries(ILedgerReader reader, long projectId, double dashboardTargetMs, CancellationToken cancellationToken)
    {
        private readonly List<Guid> _rootRuns = [];
        private readonly List<string> _sessions = [];

        public async Task PrepareAsync()
        {
            var roots = await reader.QueryRunsAsync(projectId, new RunQuery(Parse("kind:pipeline"), 2000, null), cancellationToken).ConfigureAwait(false);
            _rootRuns.AddRange(roots.Items.Where((_, i) => i % 20 == 0).Take(100).Select(r => r.Id));
            var sessions = await reader.QuerySessionsAsync(projectId, new SessionQuery(null, 100, null), cancellationToken).ConfigureAwait(false);
            _sessions.AddRange(sessions.Items.Select(s => s.Id));
            if (_rootRuns.Count == 0 || _sessions.Count == 0)
            {
                throw new InvalidOperationException("The loaded database has no pipeline runs or sessions.");
            }
        }

        public IEnumerable<(string Name, Func<int, Task<string?>> Query, double? TargetMs)> All()
        {
            var now = NightlyWorkload.Now;
            var middle = NightlyWorkload.LastNightStart.AddDays(-Nights / 2).AddHours(4);
            var deepCursor = Cursors.Encode(StorageUnits.ToMicros(middle), Enumerable.Repeat((byte)0xFF, 16).ToArray());
            yield return ("first page of a filter (status:failed model:gpt-4o)", _ => Page("status:failed model:gpt-4o", null), dashboardTargetMs);
            yield return ("deep keyset page (no filter, mid-history cursor)", _ => Page(null, deepCursor), null);
            yield return ("stats for a day by model (last 24 h)", _ => Stats(["model"], now.AddDays(-1), now), dashboardTargetMs);
            yield return ("stats by model over 30 days", _ => Stats(["model"], now.AddDays(-30), now), 50);
            yield return ("p95 per name over 7 days", _ => Stats(["name"], now.AddDays(-7), now), null);
            yield return ("full-text search (\"webhook\")", _ => Page("\"webhook\"", null), null);
            yield return ("full-text phrase (\"rate limit\")", _ => Page("\"rate limit\"", null), null);
            yield return ("run detail with children", i => Detail(_rootRuns[i % _rootRuns.Count]), null);
            yield return ("last 100 events", _ => LastEvents(), dashboardTargetMs);
            yield return ("session summary (counts and newest 50 top-level runs)", i => Session(_sessions[i % _sessions.Count]), dashboardTargetMs);
            yield return ("first page of a session filter (session:ID)", i => Page("session:" + _sessions[i % _sessions.Count], null), dashboardTargetMs);
        }

        public Func<int, Task<string?>> NeverAdjacentPhrase() => _ => Page("\"team plan\"", null);

        public Func<int, Task<string?>> RunsForRepository(string repository) =>
            _ => Page(string.Create(CultureInfo.InvariantCulture, $"metadata.repository:\"{repository}\""), null);

        private static FilterNode? Parse(string? text) => FilterParser.Parse(text, FilterTarget.Runs);

        private async Task<string?> Page(string? filter, string? cursor)
        {
            var page = await reader.QueryRunsAsync(projectId, new RunQuery(Parse(filter), PageSize, cursor), cancellationToken).ConfigureAwait(false);
            return Fmt.Int(page.Items.Count) + " runs";
        }

        private async Task<string?> Stats(string[] groupBy, DateTimeOffset from, DateTimeOffset to)
        {
            var stats = await reader.GetStatsAsync(projectId, new StatsQuery(null, groupBy, null, from, to, false), cancellationToken).ConfigureAwait(false);
            return string.Create(CultureInfo.InvariantCulture, $"{stats.Groups.Count} groups, {Fmt.Int(stats.Total.Count)} runs, from {stats.Source}");
        }

        private async Task<string?> Detail(Guid id)
        {
            var detail = await reader.GetRunAsync(projectId, id, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException("run " + id + " is missing");
            return string.Create(CultureInfo.InvariantCulture, $"{detail.Children.Count} children, {detail.Events.Count} events");
        }

        private async Task<string?> LastEvents()
        {
            var events = await reader.ReadEventsAsync(projectId, -1, null, 100, cancellationToken).ConfigureAwait(false);
            return Fmt.Int(events.Count) + " events";
        }

        private async Task<string?> Session(string id)
        {
            var session = await reader.GetSessionAsync(projectId, id, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException("session " + id + " is missing");
            return string.Create(CultureInfo.InvariantCulture, $"{session.Runs.Count} top-level runs of {Fmt.Int(session.Session.RunCount)}");
        }
    }
}
