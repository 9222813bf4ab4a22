using System.Globalization;
using Npgsql;
using RunLedger.Core.Rollups;
using RunLedger.Core.Storage;

namespace RunLedger.Postgres;

/// <summary>
/// Applies the numbered migrations embedded in this assembly (<c>Migrations/NNNN_name.sql</c>)
/// in order, each in its own transaction, and records them in <c>schema_version</c>. The whole
/// run holds a session advisory lock, so replicas starting at once migrate one after another
/// (the second finds the work done). Each migration's transaction first takes the writers' lock
/// (<see cref="PostgresWriter.EventOrderLockKey"/>): no write group is half done while the schema
/// changes, the DDL never waits on a writer that waits on the migration, and a running writer's
/// version check (<see cref="PostgresWriter"/>) sees the new version from its next group on.
/// </summary>
internal static class PostgresMigrator
{
    /// <summary>Advisory lock key for migrations ("RLMIGRAT" in ASCII).</summary>
    internal const long MigrationLockKey = 0x524C_4D49_4752_4154;

    private const string ResourcePrefix = "RunLedger.Postgres.Migrations.";

    public static IReadOnlyList<(int Version, string Resource)> Migrations { get; } = EmbeddedMigrations.Discover(typeof(PostgresMigrator).Assembly, ResourcePrefix);

    /// <summary>The newest schema version this build knows.</summary>
    public static int LatestVersion => Migrations[^1].Version;

    /// <summary>The newest applied schema version (one row per migration, so max over a handful of rows).</summary>
    internal const string CurrentVersionSql = "SELECT max(version) FROM schema_version";

    public static Task MigrateAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        MigrateAsync(dataSource, LatestVersion, cancellationToken);

    /// <summary>Applies the migrations up to <paramref name="targetVersion"/> (tests stand in for an older build with a lower one).</summary>
    public static async Task MigrateAsync(NpgsqlDataSource dataSource, int targetVersion, CancellationToken cancellationToken)
    {
        var migrations = Migrations.Where(m => m.Version <= targetVersion).ToList();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, $"SELECT pg_advisory_lock({MigrationLockKey})", cancellationToken).ConfigureAwait(false);
        try
        {
            await ExecuteAsync(
                connection,
                "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
                cancellationToken).ConfigureAwait(false);

            var applied = new HashSet<int>();
            await using (var select = new NpgsqlCommand("SELECT version FROM schema_version", connection))
            await using (var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    applied.Add(reader.GetInt32(0));
                }
            }

            EmbeddedMigrations.EnsureNotNewer(applied, migrations);

            foreach (var (version, name) in migrations)
            {
                if (applied.Contains(version))
                {
                    continue;
                }

                await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, $"SELECT pg_advisory_xact_lock({PostgresWriter.EventOrderLockKey})", cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, EmbeddedMigrations.Read(typeof(PostgresMigrator).Assembly, name), cancellationToken).ConfigureAwait(false);
                await AfterSqlAsync(version, connection, cancellationToken).ConfigureAwait(false);
                await using (var record = new NpgsqlCommand("INSERT INTO schema_version (version, name) VALUES (@v, @n)", connection))
                {
                    record.Parameters.AddWithValue("v", version);
                    record.Parameters.AddWithValue("n", name[ResourcePrefix.Length..]);
                    await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            await ExecuteAsync(connection, $"SELECT pg_advisory_unlock({MigrationLockKey})", CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>0003_hourly_rollups: hourly rows are added up from the 5-minute rows.</summary>
    private const int HourlyRollupsVersion = 3;

    /// <summary>The part of a migration that SQL cannot do, in its transaction after its file.</summary>
    private static async Task AfterSqlAsync(int version, NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        if (version == HourlyRollupsVersion)
        {
            // Under the writers' lock (taken for every migration), as a rebuild sums: a group
            // committing meanwhile would add to 5-minute rows already summed. (Replicas older than
            // the version check in the writer must be stopped first: they never write hourly
            // rows; see operations.md.)
            await AddHourlyRollupsAsync(connection, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Writes the hourly rollup rows the 5-minute rows add up to, in the connection's transaction (the migration's and a version-1 restore's part).</summary>
    internal static Task<long> AddHourlyRollupsAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        HourlyRollupBackfill.RunAsync(connection, null, async (rows, ct) =>
        {
            await using var upsert = new NpgsqlCommand(PostgresRollupRows.UpsertSql, connection);
            PostgresRollupRows.Bind(upsert.Parameters, [.. rows.Select(r => PostgresWriter.Row(r.Key, r.Value))], [.. rows.Select(r => r.Key.ProjectId)]);
            await upsert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }, cancellationToken);

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
