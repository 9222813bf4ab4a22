using Microsoft.Data.Sqlite;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Query;
using RunLedger.Core.Storage;

namespace RunLedger.Sqlite.Tests.Store;

/// <summary>
/// Schema 11: the time-ordered indexes end at the start time, not at the run id (SQLite sorts the
/// runs of one microsecond by id), and the events indexes no longer repeat the rowid. The order
/// the API returns stays (start time, then id); the conformance suite checks it with ties.
/// </summary>
public sealed class SqliteIndexShapeTests
{
    private static readonly DateTimeOffset Day = StoreFixture.Day;

    private static readonly string[] TimeOrdered =
        ["ix_runs_started", "ix_runs_status", "ix_runs_model", "ix_runs_name", "ix_runs_parent", "ix_runs_session", "ix_runs_session_roots"];

    [Fact]
    public async Task Migration_LedgerOfVersion10_IndexesEndAtTheStartTime_AndPagesKeepTheirOrder()
    {
        var directory = Path.Combine(Path.GetTempPath(), "runledger-store-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "runledger.db");
        var us = StorageUnits.ToMicros(Day.AddHours(1));
        var random = new Random(5);
        var ids = Enumerable.Range(0, 40).Select(_ => Guid.NewGuid()).ToList();
        var parent = ids[0];
        await using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await connection.OpenAsync();
            await SqliteMigrator.MigrateAsync(connection, 10, default);
            ColumnsOf(connection, "ix_runs_status").ShouldBe(["project_id", "status", "started_at", "id"]);
            await using var command = connection.CreateCommand();
            command.CommandText =
                "INSERT INTO projects (id, name, created_at) VALUES (1, 'p', 0);" +
                "INSERT INTO session_keys (key, project_id, id) VALUES (1, 1, 's');";
            await command.ExecuteNonQueryAsync();
            for (var i = 0; i < ids.Count; i++)
            {
                // Four start times only, random ids: most runs tie with others.
                command.CommandText =
                    "INSERT INTO runs (project_id, id, session_key, parent_id, kind, name, status, started_at, source, created_at, updated_at) " +
                    "VALUES (1, @id, 1, @parent, 'llm', 'step', 'succeeded', @us, 'api', 0, 0);" +
                    "INSERT INTO events (project_id, type, time, session_key, run_id, name, data) VALUES (1, 'note', @us, 1, @id, NULL, '{}');";
                command.Parameters.Clear();
                command.Parameters.AddWithValue("@id", StorageUnits.ToBytes(ids[i]));
                command.Parameters.AddWithValue("@parent", i == 0 ? DBNull.Value : StorageUnits.ToBytes(parent));
                command.Parameters.AddWithValue("@us", us + random.Next(0, 4));
                await command.ExecuteNonQueryAsync();
            }
        }

        await using var f = await StoreFixture.OpenAsync(directory: directory);
        f.Scalar("SELECT max(version) FROM schema_version").ShouldBe(SqliteMigrator.Migrations.Max(m => m.Version));
        f.Scalar("SELECT count(*) FROM pragma_integrity_check WHERE integrity_check <> 'ok'").ShouldBe(0);
        using (var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False"))
        {
            connection.Open();
            foreach (var index in TimeOrdered)
            {
                var columns = ColumnsOf(connection, index);
                // Schema 12 ends the time index at the metadata key (see SqliteRunMetadataTests).
                columns[^1].ShouldBe(index == "ix_runs_started" ? "metadata_key" : "started_at", index);
                columns.ShouldNotContain("id", index);
            }

            ColumnsOf(connection, "ix_events_project").ShouldBe(["project_id"]);
            ColumnsOf(connection, "ix_events_run").ShouldBe(["project_id", "run_id"]);
            ColumnsOf(connection, "ix_events_session").ShouldBe(["project_id", "session_key"]);
        }

        var starts = new Dictionary<Guid, long>();
        await using (var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT id, started_at FROM runs;";
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                starts[StorageUnits.ToGuid((byte[])reader[0])] = reader.GetInt64(1);
            }
        }

        var newestFirst = ids.OrderByDescending(id => starts[id]).ThenByDescending(id => Convert.ToHexString(StorageUnits.ToBytes(id)), StringComparer.Ordinal).ToList();
        foreach (var filter in new[] { (string?)null, "status:succeeded", "name:step", "session:s" })
        {
            (await PageIdsAsync(f, filter, 3)).ShouldBe(newestFirst, filter ?? "no filter");
        }

        var children = (await f.Store.Reader.GetRunAsync(1, parent, default))!.Children.Select(c => c.Id).ToList();
        children.ShouldBe(ids.Skip(1).OrderBy(id => starts[id]).ThenBy(id => Convert.ToHexString(StorageUnits.ToBytes(id)), StringComparer.Ordinal).ToList());

        var events = await f.Store.Reader.ReadEventsAsync(1, -1, null, 100, default);
        events.Select(e => e.Id).ShouldBe(events.Select(e => e.Id).Order().ToList());
        events.Count.ShouldBe(ids.Count);
    }

    [Fact]
    public async Task Upgrade_LeavesNoWalOfTheRebuiltIndexesBehind()
    {
        // The upgrade writes every index again in one transaction; SQLite keeps a WAL file at its
        // largest size while connections are open, so the store checkpoints it away once.
        var directory = Path.Combine(Path.GetTempPath(), "runledger-store-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "runledger.db");
        await using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await connection.OpenAsync();
            await SqliteMigrator.MigrateAsync(connection, 10, default);
            await using var command = connection.CreateCommand();
            command.CommandText =
                "INSERT INTO projects (id, name, created_at) VALUES (1, 'p', 0);" +
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30000) " +
                "INSERT INTO runs (project_id, id, kind, name, status, started_at, source, created_at, updated_at) " +
                "SELECT 1, randomblob(16), 'llm', 'step' || (i % 50), 'succeeded', 1790000000000000 + i * 1000, 'api', 0, 0 FROM n;" +
                "PRAGMA wal_checkpoint(TRUNCATE);";
            await command.ExecuteNonQueryAsync();
        }

        await using var f = await StoreFixture.OpenAsync(directory: directory);
        f.Scalar("SELECT max(version) FROM schema_version").ShouldBe(SqliteMigrator.Migrations.Max(m => m.Version));
        var wal = new FileInfo(path + "-wal");
        (wal.Exists ? wal.Length : 0).ShouldBeLessThan(512 * 1024, "the rebuilt indexes of 30,000 runs are several MiB");
        f.Scalar("SELECT count(*) FROM runs").ShouldBe(30000);
    }

    private static List<string> ColumnsOf(SqliteConnection connection, string index)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT name FROM pragma_index_info(@index) ORDER BY seqno;";
        command.Parameters.AddWithValue("@index", index);
        using var reader = command.ExecuteReader();
        var columns = new List<string>();
        while (reader.Read())
        {
            columns.Add(reader.GetString(0));
        }

        return columns;
    }

    private static async Task<List<Guid>> PageIdsAsync(StoreFixture f, string? filter, int size)
    {
        var ids = new List<Guid>();
        string? cursor = null;
        do
        {
            var page = await f.Store.Reader.QueryRunsAsync(1, new RunQuery(filter is null ? null : FilterParser.Parse(filter, FilterTarget.Runs), size, cursor), default);
            ids.AddRange(page.Items.Select(r => r.Id));
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        return ids;
    }
}
