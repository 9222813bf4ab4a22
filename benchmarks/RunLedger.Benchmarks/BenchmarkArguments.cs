using System.Globalization;

namespace RunLedger.Benchmarks;

/// <summary>
/// The command line: a scenario name, <c>--runs N</c>, <c>--quick</c>, <c>--rounds N</c> (how many
/// times the ingest scenario measures every contender, interleaved) and <c>--postgres CONNECTION</c>
/// (an existing PostgreSQL server for the PostgreSQL scenarios instead of a throwaway one).
/// </summary>
internal sealed record BenchmarkArguments(string? Scenario, int? Runs, bool Quick, string? Postgres = null, int? Rounds = null)
{
    public static BenchmarkArguments Parse(IReadOnlyList<string> args)
    {
        string? scenario = null;
        int? runs = null;
        var quick = false;
        string? postgres = null;
        int? rounds = null;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "--quick")
            {
                quick = true;
            }
            else if (arg == "--runs")
            {
                if (i + 1 >= args.Count || !int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1)
                {
                    throw new FormatException("--runs needs a positive whole number.");
                }

                runs = n;
                i++;
            }
            else if (arg == "--rounds")
            {
                if (i + 1 >= args.Count || !int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1)
                {
                    throw new FormatException("--rounds needs a positive whole number.");
                }

                rounds = n;
                i++;
            }
            else if (arg == "--postgres")
            {
                if (i + 1 >= args.Count || string.IsNullOrWhiteSpace(args[i + 1]))
                {
                    throw new FormatException("--postgres needs a connection string ('Host=...;Username=...') or a postgres:// URL.");
                }

                postgres = args[i + 1];
                i++;
            }
            else if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                throw new FormatException($"Unknown option '{arg}'.");
            }
            else if (scenario is null)
            {
                scenario = arg;
            }
            else
            {
                throw new FormatException($"Unexpected argument '{arg}'.");
            }
        }

        return new BenchmarkArguments(scenario, runs, quick, postgres, rounds);
    }

    /// <summary>The run count: <c>--runs</c> if given, else the quick or full default.</summary>
    public int RunCount(int quickDefault, int fullDefault) => Runs ?? (Quick ? quickDefault : fullDefault);
}
