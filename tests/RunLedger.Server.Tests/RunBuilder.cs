using System.Globalization;
using System.Text;
using System.Text.Json;

namespace RunLedger.Server.Tests;

/// <summary>Builds ingest request bodies as JSON text, so tests control exactly what goes on the wire.</summary>
internal static class RunBuilder
{
    public static string NewId() => Guid.CreateVersion7().ToString();

    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>A finished run with the given fields; <paramref name="extra"/> is raw JSON members appended (", ..." not needed).</summary>
    public static string Run(string id, DateTimeOffset startedAt, string? extra = null)
    {
        var text = new StringBuilder();
        text.Append("{\"id\":\"").Append(id).Append("\",\"startedAt\":\"").Append(Time(startedAt)).Append('"');
        if (!string.IsNullOrEmpty(extra))
        {
            text.Append(',').Append(extra);
        }

        return text.Append('}').ToString();
    }

    public static string Body(IEnumerable<string> runs) => "{\"runs\":[" + string.Join(",", runs) + "]}";

    public static string Str(string value) => JsonSerializer.Serialize(value);

    /// <summary>A request body of <paramref name="count"/> succeeded runs; returns the body and the ids.</summary>
    public static (string Body, List<string> Ids) Batch(int count, DateTimeOffset startedAt, string? extra = null)
    {
        var ids = new List<string>(count);
        var runs = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            var id = NewId();
            ids.Add(id);
            runs.Add(Run(id, startedAt.AddMilliseconds(i), extra));
        }

        return (Body(runs), ids);
    }
}
