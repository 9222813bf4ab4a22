using System.Globalization;
using System.Reflection;

namespace RunLedger.Core.Storage;

/// <summary>
/// The numbered SQL migrations a store embeds as resources (<c>Migrations/NNNN_name.sql</c>), in
/// version order. Each store applies them its own way and records them in <c>schema_version</c>.
/// </summary>
public static class EmbeddedMigrations
{
    /// <summary>The migrations embedded in <paramref name="assembly"/> under <paramref name="resourcePrefix"/>, by version.</summary>
    public static IReadOnlyList<(int Version, string Resource)> Discover(Assembly assembly, string resourcePrefix)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var list = new List<(int, string)>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(resourcePrefix, StringComparison.Ordinal) || !resource.EndsWith(".sql", StringComparison.Ordinal))
            {
                continue;
            }

            var file = resource[resourcePrefix.Length..];
            var digits = new string(file.TrimStart('_').TakeWhile(char.IsAsciiDigit).ToArray());
            if (digits.Length == 0)
            {
                continue;
            }

            list.Add((int.Parse(digits, CultureInfo.InvariantCulture), resource));
        }

        list.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return list;
    }

    /// <summary>The SQL text of one embedded migration.</summary>
    public static string Read(Assembly assembly, string resource)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Migration {resource} is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Refuses a database whose newest applied version is beyond what this build knows.</summary>
    public static void EnsureNotNewer(IReadOnlyCollection<int> applied, IReadOnlyList<(int Version, string Resource)> known)
    {
        ArgumentNullException.ThrowIfNull(applied);
        ArgumentNullException.ThrowIfNull(known);
        var newest = known.Count == 0 ? 0 : known[^1].Version;
        if (applied.Count > 0 && applied.Max() > newest)
        {
            throw new SchemaTooNewException(
                applied.Max(),
                newest,
                string.Create(CultureInfo.InvariantCulture, $"The database has schema version {applied.Max()}, newer than this RunLedger knows ({newest}). Upgrade RunLedger to open it."));
        }
    }
}
