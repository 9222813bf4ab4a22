using System.Text.Json;

namespace RunLedger.Benchmarks;

/// <summary>Writes a report as <c>&lt;scenario&gt;.md</c> and <c>&lt;scenario&gt;.json</c>.</summary>
internal static class ResultWriter
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary><c>benchmarks/results</c> under the repository root (found from the working directory), else under it.</summary>
    public static string ResultsDirectory()
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RunLedger.slnx")))
            {
                return Path.Combine(dir.FullName, "benchmarks", "results");
            }
        }

        return Path.Combine(Environment.CurrentDirectory, "benchmarks", "results");
    }

    public static void Write(ScenarioReport report, string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, report.Scenario + ".md"), report.ToMarkdown());
        var json = new
        {
            report.Scenario,
            report.Title,
            report.Command,
            report.MeasuredAt,
            report.Machine,
            report.Columns,
            report.Rows,
            report.Summary,
            report.Metrics,
            report.Notes,
        };
        File.WriteAllText(Path.Combine(directory, report.Scenario + ".json"), JsonSerializer.Serialize(json, JsonOptions) + "\n");
    }
}
