using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Payloads;
using RunLedger.Core.Query;
using RunLedger.Core.Storage;
using RunLedger.Core.Storage.Transfer;

namespace RunLedger.Sqlite.Tests.Store;

/// <summary>
/// Runs refer to their bodies by payload row id, and bodies are found again by a hash prefix index
/// (schema version 8), on real SQLite files.
/// </summary>
public sealed class SqlitePayloadReferenceTests
{
    private const int PrefixBytes = 8;

    [Fact]
    public async Task Write_BodyWhoseHashPrefixIsTaken_StoresItsOwnRowAndReadsItBack()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var body = RawJson.FromString("the body that arrives second");
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(body.Text));

        // Another body already stored under a hash with the same first 8 bytes (a prefix collision).
        var impostor = CollidingHash(hash);
        InsertRawPayload(f.DatabasePath, impostor, "\"the impostor\"");

        var first = Guid.CreateVersion7();
        var second = Guid.CreateVersion7();
        await f.WriteAsync(project.Id, [new RunWrite { Id = first, Input = body }]);
        await f.WriteAsync(project.Id, [new RunWrite { Id = second, Input = body }]);

        // Two rows under the prefix: the impostor and the body (stored once for both runs).
        f.Scalar($"SELECT count(*) FROM payloads WHERE substr(hash, 1, {PrefixBytes}) = x'{Convert.ToHexString(hash[..PrefixBytes])}'").ShouldBe(2);
        f.Scalar("SELECT count(*) FROM payloads").ShouldBe(2);
        foreach (var id in new[] { first, second })
        {
            var run = (await f.Store.Reader.GetRunAsync(project.Id, id, default))!.Run;
            run.Input!.Text.ShouldBe(body.Text);
            run.InputInfo!.Sha256.ShouldBe(Convert.ToHexStringLower(hash));
        }

        f.Scalar($"SELECT count(*) FROM payloads WHERE hash = x'{Convert.ToHexString(impostor)}' AND CAST(data AS TEXT) = '\"the impostor\"'").ShouldBe(1);
    }

    [Fact]
    public async Task Import_BodyWhoseHashPrefixIsTaken_StoresItsOwnRow()
    {
        await using var source = await StoreFixture.OpenAsync();
        await using var target = await StoreFixture.OpenAsync();
        var project = await source.Store.Admin.GetOrCreateProjectAsync("p", default);
        var body = RawJson.FromString("a body copied to another ledger");
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(body.Text));
        var id = Guid.CreateVersion7();
        await source.WriteAsync(project.Id, [new RunWrite { Id = id, Input = body, Output = body }]);
        InsertRawPayload(target.DatabasePath, CollidingHash(hash), "\"the impostor\"");

        await LedgerCopier.CopyAsync(new StoreTransferSource(source.Store.Transfer), target.Store.Transfer, null, default);

        var targetProject = await target.Store.Admin.GetOrCreateProjectAsync("p", default);
        var run = (await target.Store.Reader.GetRunAsync(targetProject.Id, id, default))!.Run;
        run.Input!.Text.ShouldBe(body.Text);
        run.Output!.Text.ShouldBe(body.Text);
        run.InputInfo!.Sha256.ShouldBe(Convert.ToHexStringLower(hash));
        target.Scalar("SELECT count(*) FROM payloads").ShouldBe(2);
    }

    [Fact]
    public async Task Write_RejectedUpdateOfAnExistingRun_LeavesNoBodyBehind()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var id = Guid.CreateVersion7();
        await f.WriteAsync(project.Id, [new RunWrite { Id = id, Kind = RunKind.Llm, StartedAt = StoreFixture.Day.AddHours(1), Input = RawJson.FromString("kept") }]);

        // Valid as a new run, so its body is stored before the insert finds the id taken; merged
        // into the stored run it would end before it started, so it is refused, and the body with it.
        var outcome = await f.WriteAsync(project.Id, [new RunWrite { Id = id, EndedAt = StoreFixture.Day.AddMinutes(30), Input = RawJson.FromString("refused") }]);

        outcome.Rejected.Count.ShouldBe(1);
        f.Scalar("SELECT count(*) FROM payloads").ShouldBe(1);
        (await f.Store.Reader.GetRunAsync(project.Id, id, default))!.Run.Input!.Text.ShouldBe("\"kept\"");
    }

    [Fact]
    public async Task Migration_LedgerOfVersion7WithBodies_RefersToThemByRowAndReadsSearchesAndExportsThem()
    {
        var directory = Path.Combine(Path.GetTempPath(), "runledger-store-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "runledger.db");
        try
        {
            var options = new PayloadOptions { MaxBodyBytes = 1024, TruncatedHeadBytes = 256 };
            var shared = PayloadCodec.Encode("\"a system prompt two runs share\"", options);
            var answer = PayloadCodec.Encode("{\"answer\":\"forty two\"}", options);
            var large = PayloadCodec.Encode("\"" + string.Concat(Enumerable.Repeat("lengthy ", 400)) + "\"", options);
            large.Truncated.ShouldBeTrue();
            Guid[] ids = [Guid.CreateVersion7(), Guid.CreateVersion7(), Guid.CreateVersion7(), Guid.CreateVersion7()];
            CreateVersion7Ledger(path, [(ids[0], shared, answer), (ids[1], shared, null), (ids[2], null, large), (ids[3], null, null)]);

            await using (var store = new SqliteLedgerStore(path, new SqliteStoreOptions(), new PayloadOptions(), TimeProvider.System))
            {
                await store.InitializeAsync(default);
                var f = (string sql) => Scalar(path, sql);
                f("SELECT max(version) FROM schema_version").ShouldBe(SqliteMigrator.Migrations[^1].Version);
                f("SELECT count(*) FROM pragma_table_info('runs') WHERE name IN ('input_hash', 'output_hash')").ShouldBe(0);
                f("SELECT count(*) FROM pragma_table_info('payloads') WHERE name = 'stored_size'").ShouldBe(0);
                f("SELECT count(*) FROM sqlite_master WHERE name = 'ux_payloads_hash'").ShouldBe(0);
                f("SELECT count(*) FROM runs WHERE input_payload IS NOT NULL").ShouldBe(2);
                f("SELECT count(DISTINCT input_payload) FROM runs").ShouldBe(1);

                var project = (await store.Admin.GetOrCreateProjectAsync("p", default)).Id;
                var first = (await store.Reader.GetRunAsync(project, ids[0], default))!.Run;
                first.Input!.Text.ShouldBe("\"a system prompt two runs share\"");
                first.InputInfo!.Sha256.ShouldBe(shared.HashHex);
                first.InputInfo.OriginalBytes.ShouldBe(shared.OriginalSize);
                first.Output!.Text.ShouldBe("{\"answer\":\"forty two\"}");
                first.OutputInfo!.Sha256.ShouldBe(answer.HashHex);
                (await store.Reader.GetRunAsync(project, ids[1], default))!.Run.Input!.Text.ShouldBe(first.Input.Text);
                var truncated = (await store.Reader.GetRunAsync(project, ids[2], default))!.Run;
                truncated.OutputInfo!.Truncated.ShouldBeTrue();
                truncated.OutputInfo.Sha256.ShouldBe(large.HashHex);
                truncated.OutputInfo.OriginalBytes.ShouldBe(large.OriginalSize);
                var bare = (await store.Reader.GetRunAsync(project, ids[3], default))!.Run;
                bare.Input.ShouldBeNull();
                bare.InputInfo.ShouldBeNull();

                // None was indexed before the upgrade: found whether or not the indexer has reached them yet.
                (await SearchAsync(store, project, "\"forty two\"")).ShouldBe([ids[0]]);
                await WaitUntilIndexedAsync(path);
                (await SearchAsync(store, project, "\"two runs share\"")).ShouldBe([ids[1], ids[0]], ignoreOrder: true);
                (await SearchAsync(store, project, "lengthy")).ShouldBe([ids[2]]);

                // An export reports each body under its hash.
                var exported = await store.Transfer.ExportRunsAsync("p", null, 10, default);
                exported.Single(r => r.Id == ids[0]).Input!.Key.ShouldBe(shared.Hash);
                exported.Single(r => r.Id == ids[2]).Output!.Key.ShouldBe(large.Hash);
                exported.Single(r => r.Id == ids[2]).Output!.Truncated.ShouldBeTrue();

                // A new run with a body stored before the upgrade refers to the same row.
                var again = Guid.CreateVersion7();
                var written = await store.Writer.WriteAsync(
                    [new WriteBatch { ProjectId = project, Source = "test", ReceivedAt = StoreFixture.Day, Runs = [new RunWrite { Id = again, Input = new RawJson("\"a system prompt two runs share\"") }] }],
                    default);
                written[0].Error.ShouldBeNull();
                f("SELECT count(*) FROM payloads").ShouldBe(3);
                f("SELECT count(DISTINCT input_payload) FROM runs").ShouldBe(1);
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>A different hash that starts with the same bytes as <paramref name="hash"/>.</summary>
    private static byte[] CollidingHash(byte[] hash)
    {
        var other = (byte[])hash.Clone();
        other[^1] ^= 0xFF;
        other[PrefixBytes] ^= 0xFF;
        return other;
    }

    /// <summary>Writes a body row behind the store's back, as stored raw UTF-8 (encoding 0).</summary>
    private static void InsertRawPayload(string path, byte[] hash, string json)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        var utf8 = Encoding.UTF8.GetBytes(json);
        command.CommandText = "INSERT INTO payloads (hash, original_size, encoding, truncated, data) VALUES (@h, @size, 0, 0, @data);";
        command.Parameters.AddWithValue("@h", hash);
        command.Parameters.AddWithValue("@size", utf8.Length);
        command.Parameters.AddWithValue("@data", utf8);
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// A ledger as version 7 left it: the migrations up to 0007 applied, and runs that refer to
    /// their bodies by SHA-256 (runs.input_hash/output_hash, payloads unique by hash), none of them
    /// in the full-text index yet.
    /// </summary>
    private static void CreateVersion7Ledger(string path, IReadOnlyList<(Guid Id, EncodedPayload? Input, EncodedPayload? Output)> runs)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        Execute(connection, "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);");
        foreach (var (version, resource) in SqliteMigrator.Migrations.Where(m => m.Version <= 7))
        {
            Execute(connection, EmbeddedMigrations.Read(typeof(SqliteMigrator).Assembly, resource));
            Execute(connection, $"INSERT INTO schema_version (version, name, applied_at) VALUES ({version}, '{resource}', '2026-11-01T00:00:00Z');");
        }

        Execute(connection, "INSERT INTO projects (id, name, created_at) VALUES (1, 'p', 0);");
        var started = StorageUnits.ToMicros(StoreFixture.Day);
        foreach (var (id, input, output) in runs)
        {
            foreach (var body in new[] { input, output })
            {
                if (body is null)
                {
                    continue;
                }

                using var payload = connection.CreateCommand();
                payload.CommandText =
                    "INSERT OR IGNORE INTO payloads (hash, original_size, stored_size, encoding, truncated, data) VALUES (@h, @size, @stored, @enc, @trunc, @data);";
                payload.Parameters.AddWithValue("@h", body.Hash);
                payload.Parameters.AddWithValue("@size", body.OriginalSize);
                payload.Parameters.AddWithValue("@stored", body.Data.Length);
                payload.Parameters.AddWithValue("@enc", (int)body.Encoding);
                payload.Parameters.AddWithValue("@trunc", body.Truncated ? 1 : 0);
                payload.Parameters.AddWithValue("@data", body.Data);
                payload.ExecuteNonQuery();
            }

            using var run = connection.CreateCommand();
            run.CommandText =
                "INSERT INTO runs (project_id, id, kind, status, started_at, input_hash, output_hash, source, created_at, updated_at) " +
                "VALUES (1, @id, 'llm', 'running', @started, @in, @out, 'test', @started, @started);";
            run.Parameters.AddWithValue("@id", StorageUnits.ToBytes(id));
            run.Parameters.AddWithValue("@started", started++);
            run.Parameters.AddWithValue("@in", (object?)input?.Hash ?? DBNull.Value);
            run.Parameters.AddWithValue("@out", (object?)output?.Hash ?? DBNull.Value);
            run.ExecuteNonQuery();
        }
    }

    private static async Task<Guid[]> SearchAsync(SqliteLedgerStore store, long projectId, string filter)
    {
        var page = await store.Reader.QueryRunsAsync(projectId, new RunQuery(FilterParser.Parse(filter, FilterTarget.Runs), 100, null), default);
        return [.. page.Items.Select(r => r.Id)];
    }

    /// <summary>Waits for the background indexer to reach the newest run (not a timing assertion).</summary>
    private static async Task WaitUntilIndexedAsync(string path)
    {
        for (var i = 0; i < 600; i++)
        {
            // The index is a file of its own beside the ledger (made by the store's indexer).
            if (File.Exists(path + ".fts") &&
                Scalar(path, $"ATTACH '{path}.fts' AS fts; SELECT (SELECT indexed_seq FROM fts.fts_progress) >= (SELECT coalesce(max(seq), 0) FROM runs)") == 1)
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("The indexer did not catch up within 30 s.");
    }

    private static long Scalar(string path, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
