using System.Diagnostics;
using System.Globalization;

namespace RunLedger.Benchmarks;

/// <summary>
/// The bytes each table and index of a SQLite file takes, from SQLite's <c>dbstat</c> table
/// (pages of each b-tree times the page size). The SQLite library the store ships with is built
/// without dbstat, so this asks the <c>sqlite3</c> shell when one is installed (read-only; it
/// reads the b-trees and needs to understand nothing else of the schema) and gives nothing when
/// it is not.
/// </summary>
internal static class SpaceBreakdown
{
    public static IReadOnlyList<(string Name, long Bytes)> Measure(string databasePath)
    {
        var info = new ProcessStartInfo("sqlite3")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-readonly");
        info.ArgumentList.Add(databasePath);
        info.ArgumentList.Add("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC;");
        try
        {
            using var process = Process.Start(info);
            if (process is null)
            {
                return [];
            }

            var output = process.StandardOutput.ReadToEnd();
            process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                return [];
            }

            var objects = new List<(string, long)>();
            foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var bar = line.LastIndexOf('|');
                if (bar > 0 && long.TryParse(line.AsSpan(bar + 1), NumberStyles.Integer, CultureInfo.InvariantCulture, out var bytes))
                {
                    objects.Add((line[..bar], bytes));
                }
            }

            return objects;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No sqlite3 shell on this machine.
            return [];
        }
    }
}
