using System.Text.Json;

namespace RunLedger.Benchmarks;

/// <summary>
/// The baseline for "runs for repository X" without a database: read and parse every run's JSON
/// file, keep those whose metadata.repository matches, newest first, first page.
/// </summary>
internal static class JsonFilesScan
{
    public static int RunsForRepository(string directory, string repository, int limit)
    {
        var matches = new List<(DateTimeOffset StartedAt, string Id)>();
        foreach (var path in Directory.EnumerateFiles(directory, "*.json"))
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement;
            if (root.TryGetProperty("metadata", out var metadata)
                && metadata.ValueKind == JsonValueKind.Object
                && metadata.TryGetProperty("repository", out var value)
                && value.ValueKind == JsonValueKind.String
                && value.ValueEquals(repository))
            {
                matches.Add((root.GetProperty("startedAt").GetDateTimeOffset(), root.GetProperty("id").GetString()!));
            }
        }

        return matches.OrderByDescending(m => m.StartedAt).ThenByDescending(m => m.Id, StringComparer.Ordinal).Take(limit).Count();
    }
}
