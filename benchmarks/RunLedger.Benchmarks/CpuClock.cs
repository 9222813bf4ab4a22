using System.Diagnostics;

namespace RunLedger.Benchmarks;

/// <summary>Wall-clock and whole-process CPU time since it was started.</summary>
internal sealed class CpuClock
{
    private readonly Stopwatch _wall = Stopwatch.StartNew();
    private readonly TimeSpan _cpuAtStart = Environment.CpuUsage.TotalTime;
    private readonly TimeSpan _jitAtStart = System.Runtime.JitInfo.GetCompilationTime();
    private readonly long _methodsAtStart = System.Runtime.JitInfo.GetCompiledMethodCount();
    private readonly long _allocatedAtStart = GC.GetTotalAllocatedBytes();
    private readonly TimeSpan _gcPauseAtStart = GC.GetTotalPauseDuration();
    private readonly int[] _collectionsAtStart = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];

    public static CpuClock StartNew() => new();

    public TimeSpan Elapsed => _wall.Elapsed;

    public TimeSpan Cpu => Environment.CpuUsage.TotalTime - _cpuAtStart;

    /// <summary>Time the runtime spent compiling methods (all threads) since the start: part of <see cref="Cpu"/>.</summary>
    public TimeSpan Jit => System.Runtime.JitInfo.GetCompilationTime() - _jitAtStart;

    /// <summary>Bytes allocated on the managed heap (all threads) since the start.</summary>
    public long Allocated => GC.GetTotalAllocatedBytes() - _allocatedAtStart;

    /// <summary>Time the program was paused for garbage collection since the start.</summary>
    public TimeSpan GcPause => GC.GetTotalPauseDuration() - _gcPauseAtStart;

    /// <summary>Garbage collections of generation 0, 1 and 2 since the start (a collection of a generation counts for the younger ones too).</summary>
    public string Collections => string.Join('/', Enumerable.Range(0, 3).Select(g => GC.CollectionCount(g) - _collectionsAtStart[g]));

    /// <summary>Methods compiled (or recompiled at a higher tier) since the start.</summary>
    public long JitMethods => System.Runtime.JitInfo.GetCompiledMethodCount() - _methodsAtStart;
}
