using System.Globalization;
using Microsoft.Data.Sqlite;
using RunLedger.Core.Rollups;
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

    /// <summary>Applies every migration the file lacks; returns how many it applied.</summary>
    public static Task<int> MigrateAsync(SqliteConnection connection, CancellationToken cancellationToken) =>
        MigrateAsync(connection, int.MaxValue, cancellationToken);

    /// <summary>Applies the migrations up to version <paramref name="upTo"/> (tests build ledgers of an older schema with it); returns how many it applied.</summary>
    internal static async Task<int> MigrateAsync(SqliteConnection connection, int upTo, CancellationToken cancellationToken)
    {
        var count = 0;
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
        SqliteRunMetadata.Register(connection);

        foreach (var (version, name) in Migrations)
        {
            if (applied.Contains(version) || version > upTo)
            {
                continue;
            }

            var sql = EmbeddedMigrations.Read(typeof(SqliteMigrator).Assembly, name);
            using var transaction = connection.BeginTransaction();
            await BeforeSqlAsync(version, connection, transaction, cancellationToken).ConfigureAwait(false);
            using (var command = connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = sql;
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await AfterSqlAsync(version, connection, transaction, cancellationToken).ConfigureAwait(false);

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
            count++;
        }

        return count;
    }

    /// <summary>The part of a migration that SQL cannot do, in its transaction before its file.</summary>
    private static async Task BeforeSqlAsync(int version, SqliteConnection connection, SqliteTransaction transaction, CancellationToken cancellationToken)
    {
        if (version == RunMetadataVersion)
        {
            // The per-key expression indexes name runs.metadata, which the file drops; their
            // names are made from the keys, so only code can find them.
            await SqliteMetadataIndexes.DropAllAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Runs refer to their metadata by key (<c>_run_metadata.sql</c>).</summary>
    private static readonly int RunMetadataVersion = VersionOf("_run_metadata.sql");

    /// <summary>The part of a migration that SQL cannot do, in its transaction after its file.</summary>
    private static async Task AfterSqlAsync(int version, SqliteConnection connection, SqliteTransaction transaction, CancellationToken cancellationToken)
    {
        if (version == HourlyRollupsVersion)
        {
            await AddHourlyRollupsAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
        }
        else if (version == PackedRunEventsVersion)
        {
            await PackRunEventsAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The run events stored as JSON are packed (see <see cref="SqliteRunEvents"/>).</summary>
    private static readonly int PackedRunEventsVersion = VersionOf("_packed_run_events.sql");

    /// <summary>The number of the migration whose file name ends with <paramref name="suffix"/>, so a renumbered file keeps its code.</summary>
    private static int VersionOf(string suffix) =>
        Migrations.Single(m => m.Resource.EndsWith(suffix, StringComparison.Ordinal)).Version;

    /// <summary>
    /// Packs every run event stored as JSON whose packed form reads back the same; writes a kept
    /// tail that does not pack out whole. Returns how many rows changed.
    /// </summary>
    internal static async Task<long> PackRunEventsAsync(SqliteConnection connection, SqliteTransaction transaction, CancellationToken cancellationToken)
    {
        const int Page = 1000;
        using var select = connection.CreateCommand();
        select.Transaction = transaction;
        select.CommandText =
            "SELECT id, type, run_id, name, data FROM events WHERE id > @after AND run_id IS NOT NULL AND typeof(data) = 'text' " +
            "AND idempotency_key IS NULL AND type GLOB 'run.*' ORDER BY id LIMIT @limit;";
        var after = select.Parameters.AddWithValue("@after", 0L);
        select.Parameters.AddWithValue("@limit", Page);
        using var update = connection.CreateCommand();
        update.Transaction = transaction;
        update.CommandText = "UPDATE events SET type = @type, data = @data WHERE id = @id;";
        var id = update.Parameters.Add("@id", SqliteType.Integer);
        var type = update.Parameters.Add("@type", SqliteType.Text);
        // No declared type: a packed event binds a BLOB, a tail written out whole a string.
        var data = update.Parameters.Add(new SqliteParameter { ParameterName = "@data" });
        var rows = new List<(long Id, string Type, Guid RunId, string? Name, string Data)>(Page);
        long changed = 0;
        while (true)
        {
            rows.Clear();
            using (var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    rows.Add((reader.GetInt64(0), reader.GetString(1), StorageUnits.ToGuid((byte[])reader.GetValue(2)), reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetString(4)));
                }
            }

            if (rows.Count == 0)
            {
                return changed;
            }

            foreach (var row in rows)
            {
                object value;
                string newType;
                if (SqliteRunEvents.Pack(row.Type, row.Data, row.RunId, row.Name) is { } packed)
                {
                    value = packed;
                    newType = string.Empty;
                }
                else if (RunEventTail.IsTail(row.Data))
                {
                    value = RunEventTail.Restore(row.Data, row.RunId, row.Name)!;
                    newType = row.Type;
                }
                else
                {
                    continue;
                }

                id.Value = row.Id;
                type.Value = newType;
                data.Value = value;
                await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                changed++;
            }

            after.Value = rows[^1].Id;
        }
    }

    /// <summary>Writes the hourly rollup rows the 5-minute rows add up to (the migration's and a version-1 restore's part).</summary>
    internal static Task<long> AddHourlyRollupsAsync(SqliteConnection connection, SqliteTransaction transaction, CancellationToken cancellationToken) =>
        HourlyRollupBackfill.RunAsync(connection, transaction, (rows, _) =>
        {
            InsertRollups(connection, transaction, rows);
            return Task.CompletedTask;
        }, cancellationToken);

    /// <summary>0006_hourly_rollups: hourly rows are added up from the 5-minute rows.</summary>
    private static readonly int HourlyRollupsVersion = VersionOf("_hourly_rollups.sql");

    private static void InsertRollups(SqliteConnection connection, SqliteTransaction transaction, IReadOnlyList<KeyValuePair<RollupKey, RollupFigures>> rows)
    {
        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText =
            "INSERT OR REPLACE INTO rollups (project_id, bucket_size, bucket_start, kind, name, model, status, count, errors, input_tokens, output_tokens, " +
            "cost_nanos, duration_count, duration_sum, duration_min, duration_max, histogram) " +
            "VALUES (@p, @size, @start, @kind, @name, @model, @status, @count, @errors, @in, @out, @cost, @dcount, @dsum, @dmin, @dmax, @histogram);";
        string[] names = ["@p", "@size", "@start", "@kind", "@name", "@model", "@status", "@count", "@errors", "@in", "@out", "@cost", "@dcount", "@dsum", "@dmin", "@dmax", "@histogram"];
        foreach (var name in names)
        {
            insert.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        insert.Prepare();
        foreach (var (key, figures) in rows)
        {
            var none = figures.DurationCount == 0;
            object?[] values =
            [
                key.ProjectId, key.BucketSize, key.BucketStart, key.Kind, key.Name, key.Model, key.Status, figures.Count, figures.Errors,
                figures.InputTokens, figures.OutputTokens, figures.CostNanos, figures.DurationCount, figures.DurationSum,
                none ? null : figures.DurationMin, none ? null : figures.DurationMax, figures.Histogram.IsEmpty ? null : figures.Histogram.ToBytes(),
            ];
            for (var i = 0; i < values.Length; i++)
            {
                insert.Parameters[i].Value = values[i] ?? DBNull.Value;
            }

            insert.ExecuteNonQuery();
        }
    }
}
