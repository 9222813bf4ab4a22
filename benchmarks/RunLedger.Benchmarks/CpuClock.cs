using System.Diagnostics;

namespace RunLedger.Benchmarks;

/// <summary>Wall-clock and whole-process CPU time since it was started.</summary>
internal sealed class CpuClock
{
    private readonly Stopwatch _wall = Stopwatch.StartNew();
    private readonly TimeSpan _cpuAtStart = Environment.CpuUsage.TotalTime;

    public static CpuClock StartNew() => new();

    public TimeSpan Elapsed => _wall.Elapsed;

    public TimeSpan Cpu => Environment.CpuUsage.TotalTime - _cpuAtStart;
}
