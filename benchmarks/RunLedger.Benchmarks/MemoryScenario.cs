using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace RunLedger.Benchmarks;

/// <summary>
/// The server's peak resident memory (VmHWM) while 1M runs (50k with --quick) are posted to
/// <c>POST /v1/ingest</c> by 4 clients: <c>runledger serve</c> runs as its own process with its
/// shipped settings, so the figure is the server's alone.
/// </summary>
internal sealed class MemoryScenario : IScenario
{
    private const int Submitters = 4;
    private const int BatchSize = 1000;
    private const int Nights = 35;
    /// <summary>The target, read as 300 MiB (the kernel reports KiB).</summary>
    private const double TargetMb = 300;

    public string Name => "memory";

    public string Description => "server peak RSS during a 1M-run ingest over HTTP (separate runledger serve process)";

    public async Task<ScenarioReport> RunAsync(BenchmarkArguments arguments, CancellationToken cancellationToken)
    {
        var runCount = arguments.RunCount(50_000, 1_000_000);
        var workload = new NightlyWorkload(runCount, Math.Min(Nights, runCount), 42);
        var cli = ServerProcess.BuildCli();
        using var dir = new TempDirectory("memory");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"memory: posting {runCount:N0} runs to a separate runledger serve process..."));
        var server = await ServerProcess.StartAsync(cli, dir.Path, new Dictionary<string, string>(), cancellationToken).ConfigureAwait(false);
        long idleKb;
        long peakSampledKb = 0;
        long endKb;
        long hwmKb;
        long runs = 0;
        long retries = 0;
        TimeSpan elapsed;
        var samples = new List<(double Seconds, long Kb)>();
        await using (server.ConfigureAwait(false))
        {
            idleKb = server.StatusKilobytes("VmRSS");
            using var stopSampling = new CancellationTokenSource();
            var clock = Stopwatch.StartNew();
            var sampler = Task.Run(async () =>
            {
                while (!stopSampling.IsCancellationRequested)
                {
                    var kb = server.StatusKilobytes("VmRSS");
                    peakSampledKb = Math.Max(peakSampledKb, kb);
                    samples.Add((clock.Elapsed.TotalSeconds, kb));
                    try
                    {
                        await Task.Delay(250, stopSampling.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                }
            }, CancellationToken.None);

            var clients = Enumerable.Range(0, Submitters).Select(_ => server.CreateClient()).ToArray();
            try
            {
                using var queue = new SemaphoreSlim(Submitters);
                var inFlight = new List<Task>();
                var next = 0;
                foreach (var request in workload.Requests(BatchSize))
                {
                    var body = HttpLedger.Serialize(request);
                    if (request.Sessions is { Count: > 0 })
                    {
                        await Task.WhenAll(inFlight).ConfigureAwait(false);
                        inFlight.Clear();
                    }

                    await queue.WaitAsync(cancellationToken).ConfigureAwait(false);
                    var client = clients[next++ % Submitters];
                    runs += request.Runs?.Count ?? 0;
                    inFlight.Add(Task.Run(
                        async () =>
                        {
                            try
                            {
                                Interlocked.Add(ref retries, await PostAsync(client, body, cancellationToken).ConfigureAwait(false));
                            }
                            finally
                            {
                                queue.Release();
                            }
                        },
                        cancellationToken));
                    inFlight.RemoveAll(t => t.IsCompletedSuccessfully);
                }

                await Task.WhenAll(inFlight).ConfigureAwait(false);
            }
            finally
            {
                foreach (var client in clients)
                {
                    client.Dispose();
                }
            }

            elapsed = clock.Elapsed;
            endKb = server.StatusKilobytes("VmRSS");
            await stopSampling.CancelAsync().ConfigureAwait(false);
            await sampler.ConfigureAwait(false);
            hwmKb = server.StatusKilobytes("VmHWM"); // after the last sample, so it bounds every sample
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  peak RSS (VmHWM) {hwmKb / 1024.0:0.0} MiB, at the end {endKb / 1024.0:0.0} MiB, idle {idleKb / 1024.0:0.0} MiB; {runs:N0} runs in {elapsed.TotalSeconds:0.0} s ({runs / elapsed.TotalSeconds:N0} runs/s)"));
        return BuildReport(arguments, runCount, idleKb, peakSampledKb, endKb, hwmKb, elapsed, retries, samples);
    }

    /// <summary>Posts one body, retrying after 429/503 as Retry-After says; returns how many retries it took.</summary>
    private static async Task<int> PostAsync(HttpClient client, byte[] body, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await client.PostAsync(new Uri("/v1/ingest", UriKind.Relative), content, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return attempt;
            }

            if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable && attempt < 100)
            {
                await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
                continue;
            }

            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw new InvalidOperationException($"POST /v1/ingest answered {(int)response.StatusCode}: {text}");
        }
    }

    private static ScenarioReport BuildReport(
        BenchmarkArguments arguments, int runCount, long idleKb, long peakSampledKb, long endKb, long hwmKb, TimeSpan elapsed, long retries, List<(double Seconds, long Kb)> samples)
    {
        var report = new ScenarioReport
        {
            Scenario = "memory",
            Title = "Memory: server peak RSS during a " + Fmt.Int(runCount) + "-run ingest over HTTP",
            Command = "dotnet run -c Release --project benchmarks/RunLedger.Benchmarks -- memory" + IngestScenario.Flags(arguments),
            Columns = ["measure", "MiB"],
        };
        static string Mb(long kb) => Fmt.Number(kb / 1024.0, "0.0");
        report.Rows.Add(["RSS after start, before ingest", Mb(idleKb)]);
        report.Rows.Add(["peak RSS (VmHWM)", Mb(hwmKb)]);
        report.Rows.Add(["highest sampled RSS (every 250 ms)", Mb(peakSampledKb)]);
        report.Rows.Add(["RSS at the end of the ingest", Mb(endKb)]);
        var quarter = samples.Count / 4;
        for (var q = 1; q <= 3 && quarter > 0; q++)
        {
            var (seconds, kb) = samples[q * quarter];
            report.Rows.Add([string.Create(CultureInfo.InvariantCulture, $"RSS at {q * 25} % of the ingest time ({seconds:0} s)"), Mb(kb)]);
        }

        report.Metrics["peak_rss_mib"] = Math.Round(hwmKb / 1024.0, 1);
        report.Metrics["idle_rss_mib"] = Math.Round(idleKb / 1024.0, 1);
        report.Metrics["end_rss_mib"] = Math.Round(endKb / 1024.0, 1);
        report.Metrics["runs_per_second"] = Math.Round(runCount / elapsed.TotalSeconds, 1);
        report.Summary.Add(SummaryLine.Check("server peak RSS (MiB)", hwmKb / 1024.0, "0.0", TargetMb, false, "< 300 MiB"));
        report.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"{Fmt.Int(runCount)} runs (with sessions and events) from the seeded workload generator over {Nights} nights, posted as requests of {BatchSize} by {Submitters} clients to `runledger serve` (built in Release, started as its own process on a fresh data directory with default settings); {elapsed.TotalSeconds:0} s, {runCount / elapsed.TotalSeconds:N0} runs/s, {retries} retries after 429/503."));
        report.Notes.Add("Peak RSS is the kernel's high-water mark of the server process (VmHWM in /proc/<pid>/status, KiB), read at the end of the ingest; the server process only, not the benchmark that posts.");
        report.Notes.Add("The machine was shared with other builds and tests while measuring.");
        return report;
    }
}
