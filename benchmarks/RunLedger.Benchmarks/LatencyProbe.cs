using System.Diagnostics;

namespace RunLedger.Benchmarks;

/// <summary>Latency of one query: a few warm-up calls, then timed calls one after another.</summary>
/// <remarks>
/// CpuMs is this process's CPU time per call (mean): on a machine shared with other work it moves
/// far less than wall-clock latency, so it shows what a change did when p50/p95 are noisy.
/// </remarks>
internal sealed record LatencyResult(string Query, int Calls, double P50Ms, double P95Ms, double MeanMs, double CpuMs, string? Detail);

internal static class LatencyProbe
{
    /// <summary>
    /// Calls <paramref name="query"/> with call numbers 0, 1, 2... (so a query can rotate over
    /// several ids) for at least <paramref name="minCalls"/> calls or <paramref name="budget"/>,
    /// whichever is longer, capped at <paramref name="maxCalls"/>.
    /// </summary>
    public static async Task<LatencyResult> MeasureAsync(string name, Func<int, Task<string?>> query, int minCalls = 30, int maxCalls = 2000, TimeSpan? budget = null)
    {
        var limit = budget ?? TimeSpan.FromSeconds(3);
        string? detail = null;
        for (var i = 0; i < 3; i++)
        {
            detail = await query(i).ConfigureAwait(false);
        }

        var samples = new List<double>();
        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var total = Stopwatch.StartNew();
        var clock = new Stopwatch();
        for (var i = 0; i < maxCalls && (i < minCalls || total.Elapsed < limit); i++)
        {
            clock.Restart();
            await query(i + 3).ConfigureAwait(false);
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
