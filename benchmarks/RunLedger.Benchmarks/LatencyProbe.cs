using System.Diagnostics;

namespace RunLedger.Benchmarks;

/// <summary>Latency of one query: warm-up calls, then timed calls one after another.</summary>
/// <remarks>
/// CpuMs is this process's CPU time per call (mean): on a machine shared with other work it moves
/// far less than wall-clock latency, so it shows what a change did when p50/p95 are noisy.
/// </remarks>
internal sealed record LatencyResult(string Query, int Calls, double P50Ms, double P95Ms, double MeanMs, double CpuMs, string? Detail);

internal static class LatencyProbe
{
    /// <summary>How long a query is called before timing starts (see <see cref="MeasureAsync"/>).</summary>
    public static readonly TimeSpan DefaultWarmUp = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Calls <paramref name="query"/> with call numbers 0, 1, 2... (so a query can rotate over
    /// several ids): first at least 3 calls and <paramref name="warmUp"/> (default
    /// <see cref="DefaultWarmUp"/>) untimed, then for at least <paramref name="minCalls"/> calls
    /// or <paramref name="budget"/>, whichever is longer, capped at <paramref name="maxCalls"/>.
    /// </summary>
    /// <remarks>
    /// The warm-up is long because of tiered compilation: .NET first runs a method as quickly
    /// jitted code and swaps in optimized code only after it has been called often enough and a
    /// background compile has finished. With 3 warm-up calls the first second of timed calls ran
    /// the unoptimized code (about 2.3 ms against 0.9 ms afterwards for stats for a day at 1M
    /// runs), which decided the p95. A server answers dashboards for hours, so the steady state
    /// is the figure that matters.
    /// </remarks>
    public static async Task<LatencyResult> MeasureAsync(string name, Func<int, Task<string?>> query, int minCalls = 30, int maxCalls = 2000, TimeSpan? budget = null, TimeSpan? warmUp = null)
    {
        var limit = budget ?? TimeSpan.FromSeconds(3);
        var warmUpLimit = warmUp ?? DefaultWarmUp;
        string? detail = null;
        var warming = Stopwatch.StartNew();
        var calls = 0;
        while (calls < 3 || warming.Elapsed < warmUpLimit)
        {
            detail = await query(calls).ConfigureAwait(false);
            calls++;
        }

        var samples = new List<double>();
        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var total = Stopwatch.StartNew();
        var clock = new Stopwatch();
        for (var i = 0; i < maxCalls && (i < minCalls || total.Elapsed < limit); i++)
        {
            clock.Restart();
            await query(calls + i).ConfigureAwait(false);
            clock.Stop();
            samples.Add(clock.Elapsed.TotalMilliseconds);
        }

        process.Refresh();
        var cpuMs = (process.TotalProcessorTime - cpuBefore).TotalMilliseconds / samples.Count;
        samples.Sort();
        return new LatencyResult(name, samples.Count, Percentile(samples, 0.50), Percentile(samples, 0.95), samples.Average(), cpuMs, detail);
    }

    /// <summary>Nearest-rank percentile of sorted samples.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double q) =>
        sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];
}
