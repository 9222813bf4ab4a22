using System.Diagnostics;

namespace RunLedger.Benchmarks;

/// <summary>CPU time this process (the client side: RunLedger or the baseline's driver) spent since <see cref="Start"/>.</summary>
internal readonly struct CpuClock
{
    private readonly TimeSpan _start;

    private CpuClock(TimeSpan start)
    {
        _start = start;
    }

    public TimeSpan Elapsed => Now() - _start;

    public static CpuClock Start() => new(Now());

    private static TimeSpan Now()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }
}
