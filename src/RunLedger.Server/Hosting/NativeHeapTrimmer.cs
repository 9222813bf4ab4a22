using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;

namespace RunLedger.Server.Hosting;

/// <summary>
/// Hands memory freed by native code back to the operating system (<c>malloc_trim</c>) every 2 s
/// while the server works, the last time at the first tick after a burst of work. glibc keeps what
/// busy thread-pool threads freed (Brotli compression of bodies, SQLite) in per-thread arenas, so a
/// long ingest leaves tens of MB resident that no one uses. An idle server (under 1 MB of managed
/// allocation since the last tick) has freed nothing new, so it is not trimmed again. Only on
/// glibc; elsewhere it stops at the first call.
/// </summary>
/// <remarks>
/// Trimming every 2 s during a sustained ingest costs next to nothing (in a CPU profile of the
/// server during the 1M-run memory benchmark neither <c>malloc_trim</c> nor the page faults that
/// reuse the returned pages reached half a percent), and it is during an ingest that it keeps the
/// resident set down, so it is not held back until the ingest ends.
/// </remarks>
internal sealed class NativeHeapTrimmer(TimeProvider time) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(2);

    /// <summary>Managed bytes allocated since the last look below which the server counts as idle.</summary>
    private const long IdleAllocationBytes = 1024 * 1024;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        using var timer = new PeriodicTimer(Period, time);
        var allocated = GC.GetTotalAllocatedBytes();
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                var now = GC.GetTotalAllocatedBytes();
                var busy = now - allocated >= IdleAllocationBytes;
                allocated = now;
                if (busy)
                {
                    // Also the first quiet tick after a burst: the burst's allocations were seen.
                    MallocTrim(0);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc: nothing to trim.
        }
    }

    // A plain DllImport: the argument and result are blittable, so no marshalling code (and no
    // unsafe code for LibraryImport's generator) is needed.
    [DllImport("libc.so.6", EntryPoint = "malloc_trim", ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int MallocTrim(nuint pad);
}
