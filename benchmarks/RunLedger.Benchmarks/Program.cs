using System.Globalization;

namespace RunLedger.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project benchmarks/RunLedger.Benchmarks -- &lt;scenario&gt; [--runs N] [--quick] [--postgres CONNECTION]</c>.
/// Each scenario runs its baselines and RunLedger on the same data in this process, prints a table
/// and writes <c>benchmarks/results/&lt;scenario&gt;.md</c> and <c>.json</c>.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        IReadOnlyList<IScenario> scenarios = [new IngestScenario(), new StorageScenario(), new QueryScenario(), new MemoryScenario(), new PostgresIngestScenario(), new PostgresIndexScenario()];
        BenchmarkArguments arguments;
        try
        {
            arguments = BenchmarkArguments.Parse(args);
        }
        catch (FormatException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message).ConfigureAwait(false);
            PrintUsage(scenarios);
            return 2;
        }

        var scenario = scenarios.FirstOrDefault(s => string.Equals(s.Name, arguments.Scenario, StringComparison.OrdinalIgnoreCase));
        if (scenario is null)
        {
            if (arguments.Scenario is not null)
            {
                await Console.Error.WriteLineAsync($"Unknown scenario '{arguments.Scenario}'.").ConfigureAwait(false);
            }

            PrintUsage(scenarios);
            return 2;
        }

        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };

        var report = await scenario.RunAsync(arguments, cancel.Token).ConfigureAwait(false);
        var directory = ResultWriter.ResultsDirectory();
        ResultWriter.Write(report, directory);
        Console.WriteLine(report.ToMarkdown());
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Results written to benchmarks/results/{report.Scenario}.md and .json"));
        return 0;
    }

    private static void PrintUsage(IReadOnlyList<IScenario> scenarios)
    {
        Console.Error.WriteLine("usage: RunLedger.Benchmarks <scenario> [--runs N] [--quick] [--rounds N] [--postgres CONNECTION]");
        Console.Error.WriteLine("scenarios:");
        foreach (var scenario in scenarios)
        {
            Console.Error.WriteLine($"  {scenario.Name,-16} {scenario.Description}");
        }
    }
}
