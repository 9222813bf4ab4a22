using System.Globalization;
using System.Reflection;
using Microsoft.Data.Sqlite;

namespace RunLedger.Sqlite;

/// <summary>
/// Applies the numbered migrations embedded in this assembly (<c>Migrations/NNNN_name.sql</c>)
/// in order, each in its own transaction, and records them in <c>schema_version</c>.
/// </summary>
internal static class SqliteMigrator
{
    private const string ResourcePrefix = "RunLedger.Sqlite.Migrations.";

    public static IReadOnlyList<(int Version, string Name)> Migrations { get; } = Discover();

    public static async Task MigrateAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        await SqliteLedgerStore.ExecuteAsync(
            connection,
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);",
            cancellationToken).ConfigureAwait(false);

        var applied = new HashSet<int>();
        using (var select = connection.CreateCommand())
        {
            select.CommandText = "SELECT version FROM schema_version;";
            using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                applied.Add(reader.GetInt32(0));
            }
        }

        var newest = Migrations.Count == 0 ? 0 : Migrations[^1].Version;
        if (applied.Count > 0 && applied.Max() > newest)
        {
            throw new InvalidOperationException(
                string.Create(CultureInfo.InvariantCulture, $"The database has schema version {applied.Max()}, newer than this RunLedger knows ({newest}). Upgrade RunLedger to open it."));
        }

        foreach (var (version, name) in Migrations)
        {
            if (applied.Contains(version))
            {
                continue;
            }

            var sql = Read(name);
            using var transaction = connection.BeginTransaction();
            using (var command = connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = sql;
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            using (var record = connection.CreateCommand())
            {
                record.Transaction = transaction;
                record.CommandText = "INSERT INTO schema_version (version, name, applied_at) VALUES (@v, @n, @t);";
                record.Parameters.AddWithValue("@v", version);
                record.Parameters.AddWithValue("@n", name);
                record.Parameters.AddWithValue("@t", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
                await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static List<(int, string)> Discover()
    {
        var list = new List<(int, string)>();
        foreach (var resource in typeof(SqliteMigrator).Assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(ResourcePrefix, StringComparison.Ordinal) || !resource.EndsWith(".sql", StringComparison.Ordinal))
            {
                continue;
            }

            var file = resource[ResourcePrefix.Length..];
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

    private static string Read(string resource)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Migration {resource} is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
