using System.Globalization;
using RunLedger.Core.Payloads;

namespace RunLedger.Benchmarks;

/// <summary>
/// Durable runs per second, the same durability everywhere (SQLite WAL + synchronous=FULL, or an
/// fsync per file): raw SQLite, RunLedger in-process, RunLedger over HTTP, a JSON file per run
/// and EF Core SaveChanges per run, all on the same runs.
/// </summary>
internal sealed class IngestScenario : IScenario
{
    private const int Submitters = 4;
    private static readonly int[] BatchSizes = [100, 1000];

    /// <summary>
    /// Runs every contender writes (untimed, other ids) before it is measured, so the first
    /// contender measured does not also pay for compiling the code every later one reuses, and
    /// the server process is warm. Without it the first batch size measured looked ~50 µs per run
    /// dearer than the same batch size measured again.
    /// </summary>
    private const int WarmUpRuns = 2_000;

    /// <summary>Seed of the first warm-up round's runs; later rounds add one.</summary>
    private const int WarmUpSeed = 4242;

    /// <summary>Most warm-up rounds per contender.</summary>
    private const int MaxWarmUpRounds = 8;

    /// <summary>A warm-up round that compiles fewer methods than this ends the warm-up.</summary>
    private const int QuietRoundMethods = 25;

    private static readonly WorkloadData FirstWarmUp = WorkloadData.Generate(WarmUpRuns, seed: WarmUpSeed);

    /// <summary>Small warm-up batches, so the per-batch code is called often enough to be recompiled optimized.</summary>
    private const int WarmUpBatch = 20;

    /// <summary>Time for the runtime to finish recompiling hot code in the background after the warm-up.</summary>
    private static readonly TimeSpan WarmUpSettle = TimeSpan.FromMilliseconds(500);

    public string Name => "ingest";

    public string Description => "durable runs/s: raw SQLite vs RunLedger (in-process, HTTP) vs JSON files vs EF Core";

    /// <summary>
    /// Rounds by default: each measures every batched contender once, the raw baseline right before
    /// RunLedger at each batch size, and the report takes the median round. The host's speed moved
    /// by a fifth between sessions and by tens of percent within minutes, so one measurement of
    /// each, taken seconds apart, made the ratios swing more than most changes being measured.
    /// </summary>
    private const int DefaultRounds = 3;

    public async Task<ScenarioReport> RunAsync(BenchmarkArguments arguments, CancellationToken cancellationToken)
    {
        var runCount = arguments.RunCount(20_000, 100_000);
        var perRunCount = Math.Min(runCount, arguments.Quick ? 2_000 : 10_000);
        var rounds = arguments.Rounds ?? DefaultRounds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ingest: generating {runCount} runs..."));
        var data = WorkloadData.Generate(runCount);
        var flat = data.Runs.Select(FlatRun.From).ToList();
        var measured = new List<IngestResult>();

        for (var round = 1; round <= rounds; round++)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round} of {rounds}"));
            foreach (var batch in BatchSizes)
            {
                using (var warm = new TempDirectory("raw-warm"))
                {
                    RawSqliteIngest.Run([.. FirstWarmUp.Runs.Select(FlatRun.From)], WarmUpBatch, warm.Path);
                }

                await Task.Delay(WarmUpSettle, cancellationToken).ConfigureAwait(false);
                using (var dir = new TempDirectory("raw"))
                {
                    measured.Add(Report(RawSqliteIngest.Run(flat, batch, dir.Path) with { Round = round }));
                }

                measured.Add(Report(await InProcessAsync(data, batch, cancellationToken).ConfigureAwait(false) with { Round = round }));
                measured.Add(Report(await HttpAsync(data, batch, cancellationToken).ConfigureAwait(false) with { Round = round }));
            }
        }

        using (var dir = new TempDirectory("json"))
        {
            measured.Add(Report(JsonFilesIngest.Run([.. data.Runs.Take(perRunCount)], dir.Path, perRunCount < runCount)));
        }

        using (var dir = new TempDirectory("ef"))
        {
            measured.Add(Report(EfCoreIngest.Run([.. flat.Take(perRunCount)], dir.Path, perRunCount < runCount)));
        }

        return BuildReport(arguments, runCount, perRunCount, rounds, measured);
    }

    private static IngestResult Report(IngestResult result)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {result.Contender,-40} batch {result.BatchSize,5}: {result.RunsPerSecond,12:N0} runs/s ({result.Runs} runs in {result.Elapsed.TotalSeconds:0.00} s), {result.CpuMicrosPerRun,8:N0} CPU us/run, JIT {result.JitTime?.TotalMilliseconds ?? 0:N0} ms / {result.JitMethods ?? 0} methods, {(result.Allocated ?? 0) / (double)result.Runs / 1024:N1} KiB allocated/run, GC {result.Gc}"));
        return result;
    }

    /// <summary>
    /// Warm-up rounds, each of <see cref="WarmUpRuns"/> other runs (seed 4242, 4243, ...) and a
    /// pause, until a round makes the runtime compile fewer than <see cref="QuietRoundMethods"/>
    /// methods: one round was not enough for the runtime to finish recompiling the hot code
    /// (tiered compilation with dynamic PGO takes two promotions, each after a quiet spell), and
    /// the compiler then ran during the timed part, up to a third of its CPU time.
    /// </summary>
    private static async Task WarmUpAsync(Func<WorkloadData, Task> round, CancellationToken cancellationToken)
    {
        for (var i = 0; i < MaxWarmUpRounds; i++)
        {
            Console.Write(i == 0 ? "  warm-up round 1" : string.Create(CultureInfo.InvariantCulture, $", {i + 1}"));
            var before = System.Runtime.JitInfo.GetCompiledMethodCount();
            await round(i == 0 ? FirstWarmUp : WorkloadData.Generate(WarmUpRuns, seed: WarmUpSeed + i)).ConfigureAwait(false);
            await Task.Delay(WarmUpSettle, cancellationToken).ConfigureAwait(false);
            if (System.Runtime.JitInfo.GetCompiledMethodCount() - before < QuietRoundMethods)
            {
                break;
            }
        }

        Console.WriteLine("; timing");
    }

    private static async Task<IngestResult> InProcessAsync(WorkloadData data, int batchSize, CancellationToken cancellationToken)
    {
        using var dir = new TempDirectory("inproc");
        await using var ledger = await InProcessLedger.OpenAsync(dir.Path, new PayloadOptions(), cancellationToken).ConfigureAwait(false);
        foreach (var sessions in data.SessionBatches())
        {
            await ledger.SubmitAsync(sessions, cancellationToken).ConfigureAwait(false);
        }

        await WarmUpAsync(
            async round =>
            {
                foreach (var sessions in round.SessionBatches())
                {
                    await ledger.SubmitAsync(sessions, cancellationToken).ConfigureAwait(false);
                }

                await Benchmarks.Submitters.RunAsync(round.RunBatches(WarmUpBatch), Submitters, (_, request) => ledger.SubmitAsync(request, cancellationToken)).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);

        var batches = data.RunBatches(batchSize);
        var cpu = CpuClock.StartNew();
        var (elapsed, written) = await Benchmarks.Submitters.RunAsync(batches, Submitters, (_, request) => ledger.SubmitAsync(request, cancellationToken)).ConfigureAwait(false);

        // CPU counts until the store is closed, so work finished after acknowledging is not left out.
        await ledger.DisposeAsync().ConfigureAwait(false);
        Check(written, data.Runs.Count);
        return new IngestResult("RunLedger in-process (pipeline)", batchSize, data.Runs.Count, elapsed, Extrapolated: false, cpu.Cpu) { JitTime = cpu.Jit, JitMethods = cpu.JitMethods, Allocated = cpu.Allocated, Gc = string.Create(CultureInfo.InvariantCulture, $"{cpu.GcPause.TotalMilliseconds:N0} ms paused, {cpu.Collections}") };
    }

    private static async Task<IngestResult> HttpAsync(WorkloadData data, int batchSize, CancellationToken cancellationToken)
    {
        using var dir = new TempDirectory("http");
        await using var ledger = await HttpLedger.StartAsync(dir.Path, Submitters, cancellationToken).ConfigureAwait(false);
        foreach (var sessions in data.SessionBatches())
        {
            await ledger.PostAsync(0, HttpLedger.Serialize(sessions), sessions.Sessions!.Count, cancellationToken).ConfigureAwait(false);
        }

        await WarmUpAsync(
            async round =>
            {
                foreach (var sessions in round.SessionBatches())
                {
                    await ledger.PostAsync(0, HttpLedger.Serialize(sessions), sessions.Sessions!.Count, cancellationToken).ConfigureAwait(false);
                }

                var warmBodies = round.RunBatches(WarmUpBatch).Select(r => (Body: HttpLedger.Serialize(r), Count: r.Runs!.Count)).ToList();
                await Benchmarks.Submitters.RunAsync(warmBodies, Submitters, (client, item) => ledger.PostAsync(client, item.Body, item.Count, cancellationToken)).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);

        var bodies = data.RunBatches(batchSize).Select(r => (Body: HttpLedger.Serialize(r), Count: r.Runs!.Count)).ToList();
        var cpu = CpuClock.StartNew();
        var (elapsed, written) = await Benchmarks.Submitters.RunAsync(bodies, Submitters, (client, item) => ledger.PostAsync(client, item.Body, item.Count, cancellationToken)).ConfigureAwait(false);
        await ledger.DisposeAsync().ConfigureAwait(false);
        Check(written, data.Runs.Count);
        return new IngestResult("RunLedger HTTP (POST /v1/ingest)", batchSize, data.Runs.Count, elapsed, Extrapolated: false, cpu.Cpu) { JitTime = cpu.Jit, JitMethods = cpu.JitMethods, Allocated = cpu.Allocated, Gc = string.Create(CultureInfo.InvariantCulture, $"{cpu.GcPause.TotalMilliseconds:N0} ms paused, {cpu.Collections}") };
    }

    private static void Check(long written, int expected)
    {
        if (written != expected)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"Expected {expected} runs written, got {written}."));
        }
    }

    private static ScenarioReport BuildReport(BenchmarkArguments arguments, int runCount, int perRunCount, int rounds, List<IngestResult> results)
    {
        var report = new ScenarioReport
        {
            Scenario = "ingest",
            Title = "Ingest: durable runs per second",
            Command = "dotnet run -c Release --project benchmarks/RunLedger.Benchmarks -- ingest" + Flags(arguments),
            Columns = ["contender", "batch", "runs", "runs/s (median)", "runs/s by round", "vs raw SQLite (same batch, same round; median)", "CPU µs per run (median)"],
        };

        // Each batched contender's rounds; a ratio is taken within a round, against the raw
        // baseline measured just before it, and the report gives the median of each figure.
        var groups = results.GroupBy(r => (r.Contender, r.BatchSize)).ToList();
        IngestResult RawIn(int round, int batch) => results.First(r => r.Contender.StartsWith("raw", StringComparison.Ordinal) && r.BatchSize == batch && r.Round == round);
        double MedianRate(string prefix, int batch) => Median(results.Where(r => r.Contender.StartsWith(prefix, StringComparison.Ordinal) && r.BatchSize == batch).Select(r => r.RunsPerSecond));
        double MedianRatio(string prefix, int batch) => Median(results.Where(r => r.Contender.StartsWith(prefix, StringComparison.Ordinal) && r.BatchSize == batch).Select(r => r.RunsPerSecond / RawIn(r.Round, batch).RunsPerSecond));
        var raw1000 = MedianRate("raw", 1000);
        foreach (var group in groups)
        {
            var (contender, batch) = group.Key;
            var first = group.First();
            var isBatched = batch > 1;
            var rate = Median(group.Select(r => r.RunsPerSecond));
            var cpu = Median(group.Select(r => r.CpuMicrosPerRun));
            var ratio = isBatched ? MedianRatio(contender, batch) : rate / raw1000;
            report.Rows.Add(
            [
                contender,
                isBatched ? Fmt.Int(batch) : "1 (per run)",
                Fmt.Int(first.Runs) + (first.Extrapolated ? " (subset)" : ""),
                Fmt.Rate(rate),
                string.Join(" / ", group.Select(r => Fmt.Rate(r.RunsPerSecond))),
                isBatched ? Fmt.Percent(ratio) : Fmt.Percent(ratio) + " of batch 1000",
                Fmt.Number(cpu, "N0"),
            ]);
            var key = contender.Split(' ')[0..2].Aggregate((a, b) => a + "_" + b).ToLowerInvariant();
            report.Metrics[string.Create(CultureInfo.InvariantCulture, $"{key}_b{batch}_runs_per_s")] = Math.Round(rate, 1);
            report.Metrics[string.Create(CultureInfo.InvariantCulture, $"{key}_b{batch}_cpu_us_per_run")] = Math.Round(cpu, 1);
            if (isBatched && !contender.StartsWith("raw", StringComparison.Ordinal))
            {
                report.Metrics[string.Create(CultureInfo.InvariantCulture, $"{key}_b{batch}_vs_raw")] = Math.Round(ratio, 4);
            }
        }

        report.Metrics["rounds"] = rounds;
        var http = BatchSizes.Max(batch => MedianRate("RunLedger HTTP", batch));
        var json = results.First(r => r.Contender.StartsWith("JSON", StringComparison.Ordinal)).RunsPerSecond;
        var ef = results.First(r => r.Contender.StartsWith("EF Core", StringComparison.Ordinal)).RunsPerSecond;
        foreach (var batch in BatchSizes)
        {
            var b = Fmt.Int(batch);
            report.Summary.Add(SummaryLine.Check($"in-process / raw SQLite, batch {b}", MedianRatio("RunLedger in-process", batch) * 100, "0.0", 85, true, ">= 85 %"));
            report.Summary.Add(SummaryLine.Check($"HTTP / raw SQLite, batch {b}", MedianRatio("RunLedger HTTP", batch) * 100, "0.0", 70, true, ">= 70 %"));
        }

        report.Summary.Add(SummaryLine.Check("HTTP durable runs/s (best batch, median round)", http, "N0", 20_000, true, ">= 20,000"));
        report.Summary.Add(SummaryLine.Check("HTTP vs EF Core SaveChanges per run (x)", http / ef, "0.0", 20, true, ">= 20x"));
        report.Summary.Add(new SummaryLine("HTTP vs JSON file per run (x)", Fmt.Times(http / json), null, "-"));

        report.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"{rounds} rounds, interleaved: in each round and at each batch size raw SQLite, then RunLedger in-process, then RunLedger over HTTP, each on a fresh file. A ratio compares RunLedger with the raw baseline of the same round and batch size, measured seconds before it; every figure in the table is the median of the rounds (the host's speed drifts by tens of percent within minutes). JSON files and EF Core are measured once, after the rounds, and compared with the median raw rate."));
        report.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"{Fmt.Int(runCount)} runs from the seeded workload generator (seed 42); every contender gets the same runs. Sessions are written before timing starts; each contender first writes {Fmt.Int(WarmUpRuns)} other runs (seed 4242, batches of {WarmUpBatch}, untimed, then a {WarmUpSettle.TotalMilliseconds:0} ms pause; raw SQLite into a throwaway file, RunLedger into the ledger it is then measured on; RunLedger repeats such rounds with new runs, up to {MaxWarmUpRounds}, until one makes the runtime compile fewer than {QuietRoundMethods} methods) so the runtime's recompilation of hot code and a cold server are not counted against whichever is measured first: the steady state is measured."));
        var jit = results.Where(r => r.JitTime is not null).GroupBy(r => (r.Contender, r.BatchSize)).Select(g => string.Create(
            CultureInfo.InvariantCulture,
            $"{g.Key.Contender.Split(' ')[1]} batch {g.Key.BatchSize}: {string.Join(" / ", g.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.JitTime!.Value.TotalMilliseconds:N0} ms ({r.JitMethods})")))}")).ToList();
        if (jit.Count > 0)
        {
            report.Notes.Add("JIT compilation left in the timed part, by round (wall time of the compiler, included in the CPU figure; methods compiled in brackets): " + string.Join("; ", jit) + ".");
        }

        report.Notes.Add("Every contender is durable on commit: SQLite in WAL mode with synchronous=FULL, or an fsync per JSON file. Each starts on a fresh file in a fresh temp directory.");
        report.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"RunLedger in-process and HTTP use {Submitters} concurrent submitters; HTTP request bodies are serialized before timing (the client's JSON work is not measured), the server parses, validates and stores them."));
        report.Notes.Add("CPU µs per run is the whole process's CPU time (all threads: server, clients, store) divided by the runs written; for RunLedger it counts until the store is closed, so work done after acknowledging (full-text indexing) is included. On a shared machine it is steadier than the rate.");
        report.Notes.Add("Raw SQLite stores a simplified runs table (bodies as TEXT, no indexes, no compression, no full-text index) with one transaction per batch: the engine's limit for this row shape.");
        if (perRunCount < runCount)
        {
            report.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"JSON files and EF Core ran on the first {Fmt.Int(perRunCount)} runs only; their rate is extrapolated to the full set (each run is an independent fsync, so the rate does not depend on the count)."));
        }

        return report;
    }

    internal static string Flags(BenchmarkArguments arguments) =>
        (arguments.Runs is { } runs ? string.Create(CultureInfo.InvariantCulture, $" --runs {runs}") : "") + (arguments.Quick ? " --quick" : "") +
        (arguments.Rounds is { } rounds ? string.Create(CultureInfo.InvariantCulture, $" --rounds {rounds}") : "");

    /// <summary>The middle value (the mean of the two middle values of an even count).</summary>
    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        var middle = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
