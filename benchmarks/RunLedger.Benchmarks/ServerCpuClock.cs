using System.Globalization;

namespace RunLedger.Benchmarks;

/// <summary>
/// CPU time of a local PostgreSQL server (Linux): the postmaster, its live backends and the backends
/// that exited (the postmaster's children times), read from <c>/proc</c>. Unavailable (null) for a
/// server on another machine or where <c>/proc</c> is missing.
/// </summary>
internal sealed class ServerCpuClock
{
    /// <summary>USER_HZ: the unit of the times in /proc/*/stat, 100 on every Linux architecture .NET runs on.</summary>
    private const double TicksPerSecond = 100;

    private readonly int _postmaster;
    private readonly TimeSpan _start;

    private ServerCpuClock(int postmaster, TimeSpan start)
    {
        _postmaster = postmaster;
        _start = start;
    }

    public TimeSpan Elapsed => Read(_postmaster) - _start;

    public static ServerCpuClock? Start(int? postmaster) =>
        postmaster is { } pid && File.Exists($"/proc/{pid}/stat") ? new ServerCpuClock(pid, Read(pid)) : null;

    private static TimeSpan Read(int postmaster)
    {
        double ticks = 0;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            var fields = Fields(pid);
            if (fields is null)
            {
                continue;
            }

            // After "pid (comm)": state, ppid, ... utime (index 11), stime, cutime, cstime.
            if (pid == postmaster)
            {
                ticks += Field(fields, 11) + Field(fields, 12) + Field(fields, 13) + Field(fields, 14);
            }
            else if (Field(fields, 1) == postmaster)
            {
                ticks += Field(fields, 11) + Field(fields, 12);
            }
        }

        return TimeSpan.FromSeconds(ticks / TicksPerSecond);
    }

    private static string[]? Fields(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (IOException)
        {
            return null; // the process ended meanwhile
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long Field(string[] fields, int index) => long.Parse(fields[index], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
}
