using System.Globalization;
using System.Text;

namespace RunLedger.Cli.Api;

/// <summary>The relative URLs of the HTTP API (docs/api.md), with their query strings.</summary>
public static class LedgerRoutes
{
    public static string Runs(string? filter, int? limit, string? cursor, bool includeBodies = false) =>
        Build("v1/runs", ("q", filter), ("limit", Number(limit)), ("cursor", cursor), ("include", includeBodies ? "bodies" : null));

    public static string Run(string id) => "v1/runs/" + Uri.EscapeDataString(id);

    public static string Sessions(string? filter, int? limit, string? cursor) =>
        Build("v1/sessions", ("q", filter), ("limit", Number(limit)), ("cursor", cursor));

    public static string Session(string id, int? limit = null, string? cursor = null) =>
        Build("v1/sessions/" + Uri.EscapeDataString(id), ("limit", Number(limit)), ("cursor", cursor));

    public static string Events(long? after, string? filter, int? limit) =>
        Build("v1/events", ("after", Number(after)), ("q", filter), ("limit", Number(limit)));

    public static string Stream(string? filter, long? after) =>
        Build("v1/stream", ("q", filter), ("after", Number(after)));

    public static string Stats(StatsRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Build(
            "v1/stats",
            ("q", request.Filter),
            ("groupBy", request.GroupBy.Count == 0 ? null : string.Join(',', request.GroupBy)),
            ("interval", request.Interval),
            ("from", request.From),
            ("to", request.To),
            ("compare", request.ComparePrevious ? "previous" : null));
    }

    public const string Ingest = "v1/ingest";

    public const string Projects = "v1/projects";

    public const string Keys = "v1/keys";

    public const string WhoAmI = "v1/whoami";

    public static string Key(long id) => "v1/keys/" + id.ToString(CultureInfo.InvariantCulture);

    private static string? Number(long? value) => value?.ToString(CultureInfo.InvariantCulture);

    private static string Build(string path, params (string Name, string? Value)[] parameters)
    {
        var builder = new StringBuilder(path);
        var separator = '?';
        foreach (var (name, value) in parameters)
        {
            if (string.IsNullOrEmpty(value))
            {
                continue;
            }

            builder.Append(separator).Append(name).Append('=').Append(Uri.EscapeDataString(value));
            separator = '&';
        }

        return builder.ToString();
    }
}
