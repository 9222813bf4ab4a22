using System.Globalization;
using Microsoft.Data.Sqlite;
using RunLedger.Core.Storage;

namespace RunLedger.Sqlite;

/// <summary>
/// Applies the numbered migrations embedded in this assembly (<c>Migrations/NNNN_name.sql</c>)
/// in order, each in its own transaction, and records them in <c>schema_version</c>.
/// </summary>
internal static class SqliteMigrator
{
    private const string ResourcePrefix = "RunLedger.Sqlite.Migrations.";

    public static IReadOnlyList<(int Version, string Resource)> Migrations { get; } = EmbeddedMigrations.Discover(typeof(SqliteMigrator).Assembly, ResourcePrefix);

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

        EmbeddedMigrations.EnsureNotNewer(applied, Migrations);

        foreach (var (version, name) in Migrations)
        {
            if (applied.Contains(version))
            {
                continue;
            }

            var sql = EmbeddedMigrations.Read(typeof(SqliteMigrator).Assembly, name);
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
}
