using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;

namespace RunLedger.Server.Hosting;

/// <summary>
/// Hands memory freed by native code back to the operating system every few seconds
/// (<c>malloc_trim</c>). glibc keeps what busy thread-pool threads freed (Brotli compression of
/// bodies, SQLite) in per-thread arenas, so a long ingest leaves tens of MB resident that no
/// one uses. Only on glibc; elsewhere it stops at the first call.
/// </summary>
internal sealed class NativeHeapTrimmer(TimeProvider time) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        using var timer = new PeriodicTimer(Period, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                MallocTrim(0);
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
