using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Payloads;
using RunLedger.Core.Query;
using RunLedger.Core.Storage;
using RunLedger.Core.Storage.Transfer;
using RunLedger.Sqlite.Tests.Transfer;

namespace RunLedger.Sqlite.Tests.Store;

/// <summary>Bodies compressed with dictionaries trained from the ledger's own bodies, on real SQLite files.</summary>
public sealed class SqlitePayloadDictionaryTests
{
    private static readonly PayloadOptions Small = new() { DictionarySampleBytes = 64 * 1024, DictionaryMaxBytes = 8 * 1024 };

    [Fact]
    public async Task Write_PastTheFirstSample_StoresADictionaryAndBodiesThatNameItAndReadBack()
    {
        await using var f = await StoreFixture.OpenAsync(Small);
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var texts = await WriteBodiesAsync(f, project.Id, 0, 300, Templated);

        f.Scalar("SELECT count(*) FROM payload_dictionaries").ShouldBe(1);
        f.Scalar("SELECT version FROM payload_dictionaries").ShouldBe(1);
        f.Scalar("SELECT count(*) FROM payloads WHERE encoding = 2").ShouldBeGreaterThan(200);
        var dictionaryId = f.Scalar("SELECT dictionary_id FROM payload_dictionaries");
        FrameIds(f).ShouldAllBe(id => id == dictionaryId);

        await ShouldReadBackAsync(f, project.Id, texts);

        // Another process (a reopened store) reads them with the stored dictionary.
        await f.ReopenAsync();
        await ShouldReadBackAsync(f, project.Id, texts);
    }

    [Fact]
    public async Task Migration_LedgerOfVersion4WithBrotliBodies_ReadsThemAndCompressesNewOnesWithADictionary()
    {
        string directory;
        Dictionary<Guid, string> old;
        long projectId;
        await using (var v4 = await StoreFixture.OpenAsync(new PayloadOptions { UseDictionaries = false }))
        {
            directory = v4.Directory;
            projectId = (await v4.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;
            old = await WriteBodiesAsync(v4, projectId, 0, 40, Templated);
            await v4.Store.DisposeAsync();

            // The file as it was before the dictionaries (migration 0007): bodies in Brotli, no dictionary table.
            Execute(v4.DatabasePath, "DROP TABLE payload_dictionaries; DELETE FROM schema_version WHERE version = 7;");
            v4.Scalar("SELECT count(*) FROM payloads WHERE encoding = 1").ShouldBeGreaterThan(30);
            v4.Scalar("SELECT count(*) FROM payloads WHERE encoding = 2").ShouldBe(0);

            await using var f = await StoreFixture.OpenAsync(Small, Path.Combine(directory, "again"));
            await f.Store.DisposeAsync();
            File.Copy(v4.DatabasePath, f.DatabasePath, overwrite: true);
            f.Store.ShouldNotBeNull();
            await using var upgraded = new SqliteLedgerStore(f.DatabasePath, new SqliteStoreOptions(), Small, TimeProvider.System);
            await upgraded.InitializeAsync(default);

            f.Scalar("SELECT max(version) FROM schema_version").ShouldBe(SqliteMigrator.Migrations[^1].Version);
            foreach (var (id, text) in old)
            {
                var detail = await upgraded.Reader.GetRunAsync(projectId, id, default);
                detail!.Run.Input!.Text.ShouldBe(text);
            }

            var fresh = new Dictionary<Guid, string>();
            for (var i = 0; i < 300; i += 25)
            {
                var batch = Enumerable.Range(i, 25).Select(n => (Guid.CreateVersion7(), Templated(1000 + n))).ToList();
                var results = await upgraded.Writer.WriteAsync([Batch(projectId, batch)], default);
                results[0].Error.ShouldBeNull();
                foreach (var (id, text) in batch)
                {
                    fresh[id] = text;
                }
            }

            // The old bodies are left as they are (and the first sample's worth of new ones go without a dictionary).
            f.Scalar("SELECT count(*) FROM payloads WHERE encoding = 1").ShouldBeGreaterThanOrEqualTo(v4.Scalar("SELECT count(*) FROM payloads WHERE encoding = 1"));
            f.Scalar("SELECT count(*) FROM payloads WHERE encoding = 2").ShouldBeGreaterThan(200);
            foreach (var (id, text) in old.Concat(fresh))
            {
                var detail = await upgraded.Reader.GetRunAsync(projectId, id, default);
                detail!.Run.Input!.Text.ShouldBe(text);
            }

            // Search reads old and new bodies alike.
            var phrase = new RunQuery(FilterParser.Parse("\"careful support agent\"", FilterTarget.Runs), 1000, null);
            (await upgraded.Reader.QueryRunsAsync(projectId, phrase, default)).Items.Count.ShouldBe(old.Count + fresh.Count);
            var reversed = new RunQuery(FilterParser.Parse("\"agent support careful\"", FilterTarget.Runs), 1000, null);
            (await upgraded.Reader.QueryRunsAsync(projectId, reversed, default)).Items.ShouldBeEmpty();
        }
    }

    [Fact]
    public async Task Retrain_BodiesDriftToOtherText_AddsVersion2AndBodiesOfBothStillRead()
    {
        await using var f = await StoreFixture.OpenAsync(Small);
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var texts = await WriteBodiesAsync(f, project.Id, 0, 200, Templated);
        f.Scalar("SELECT count(*) FROM payload_dictionaries").ShouldBe(1);

        // Other text entirely: after eight samples' worth of it a dictionary of it is trained in the
        // background and stored by a later write.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        var n = 0;
        while (f.Scalar("SELECT count(*) FROM payload_dictionaries") < 2)
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline);
            foreach (var (id, text) in await WriteBodiesAsync(f, project.Id, n, 50, Drifted))
            {
                texts[id] = text;
            }

            n += 50;
        }

        f.Scalar("SELECT max(version) FROM payload_dictionaries").ShouldBe(2);
        foreach (var (id, text) in await WriteBodiesAsync(f, project.Id, n, 50, Drifted))
        {
            texts[id] = text;
        }

        var ids = FrameIds(f).Distinct().ToList();
        ids.Count.ShouldBe(2);
        ids.ShouldBe([f.Scalar("SELECT dictionary_id FROM payload_dictionaries WHERE version = 1"), f.Scalar("SELECT dictionary_id FROM payload_dictionaries WHERE version = 2")], ignoreOrder: true);
        await ShouldReadBackAsync(f, project.Id, texts);
        await f.ReopenAsync();
        await ShouldReadBackAsync(f, project.Id, texts);
    }

    [Fact]
    public async Task Copy_DictionaryBodies_AreSentSelfContainedAndTheCopyVerifiesIdentical()
    {
        await using var source = await StoreFixture.OpenAsync(Small);
        await using var target = await StoreFixture.OpenAsync(new PayloadOptions { UseDictionaries = false });
        await TransferTests.WriteWorkloadAsync(source.Store, runs: 400);
        source.Scalar("SELECT count(*) FROM payloads WHERE encoding = 2").ShouldBeGreaterThan(100);

        await LedgerCopier.CopyAsync(new StoreTransferSource(source.Store.Transfer, pageSize: 64), target.Store.Transfer, null, default);

        var verify = await LedgerVerifier.VerifyAsync(new StoreTransferSource(source.Store.Transfer, 37), new StoreTransferSource(target.Store.Transfer, 53), 10, default);
        verify.Differences.ShouldBeEmpty();
        verify.RunsIdentical.ShouldBe(400);
        target.Scalar("SELECT count(*) FROM payloads WHERE encoding = 2").ShouldBe(0);

        // And the same through a logical backup file.
        var file = Path.Combine(source.Directory, "ledger.jsonl.gz");
        await using (var output = File.Create(file))
        {
            await TransferFile.WriteAsync(new StoreTransferSource(source.Store.Transfer), output, TimeProvider.System, null, default);
        }

        using (var reader = new StreamReader(new System.IO.Compression.GZipStream(File.OpenRead(file), System.IO.Compression.CompressionMode.Decompress)))
        {
            (await reader.ReadToEndAsync()).ShouldNotContain("\"encoding\":\"zstdDictionary\"", Case.Insensitive);
        }
    }

    [Fact]
    public async Task Open_DamagedDictionaryRow_TheLedgerOpensAndItsBodiesReadAsUnreadable()
    {
        await using var f = await StoreFixture.OpenAsync(Small);
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var texts = await WriteBodiesAsync(f, project.Id, 0, 300, Templated);
        await f.Store.DisposeAsync();
        Execute(f.DatabasePath, "UPDATE payload_dictionaries SET data = x'0011223344556677';");

        await f.ReopenAsync(new SqliteStoreOptions());

        var unreadable = 0;
        foreach (var id in texts.Keys)
        {
            var detail = await f.Store.Reader.GetRunAsync(project.Id, id, default);
            detail.ShouldNotBeNull();
            unreadable += detail.Run.InputInfo!.Unreadable is null ? 0 : 1;
        }

        unreadable.ShouldBeGreaterThan(100);
        var more = await WriteBodiesAsync(f, project.Id, 1000, 20, Templated);
        await ShouldReadBackAsync(f, project.Id, more);
    }

    [Fact]
    public async Task Read_BodyWhoseDictionaryIsGone_IsReportedUnreadableAndCopiedVerbatim()
    {
        await using var source = await StoreFixture.OpenAsync(Small);
        var project = await source.Store.Admin.GetOrCreateProjectAsync("p", default);
        var texts = await WriteBodiesAsync(source, project.Id, 0, 400, Templated);
        await source.Store.DisposeAsync();
        Execute(source.DatabasePath, "DELETE FROM payload_dictionaries;");
        await source.ReopenAsync();

        var damaged = source.Scalar("SELECT count(*) FROM payloads WHERE encoding = 2");
        damaged.ShouldBeGreaterThan(100);
        var unreadable = 0;
        foreach (var id in texts.Keys)
        {
            var detail = await source.Store.Reader.GetRunAsync(project.Id, id, default);
            detail.ShouldNotBeNull();
            unreadable += (detail.Run.InputInfo!.Unreadable is null ? 0 : 1) + (detail.Run.OutputInfo!.Unreadable is null ? 0 : 1);
        }

        unreadable.ShouldBe((int)damaged);

        await using var target = await StoreFixture.OpenAsync();
        await LedgerCopier.CopyAsync(new StoreTransferSource(source.Store.Transfer), target.Store.Transfer, null, default);
        var verify = await LedgerVerifier.VerifyAsync(new StoreTransferSource(source.Store.Transfer, 37), new StoreTransferSource(target.Store.Transfer, 53), 10, default);
        verify.Differences.ShouldBeEmpty();
        target.Scalar("SELECT count(*) FROM payloads WHERE encoding = 2").ShouldBe(damaged);
    }

    [Fact]
    public async Task Search_DictionaryBodies_FoundByTheIndexAndByTheTailScan()
    {
        await using var f = await StoreFixture.OpenAsync(Small);
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        await WriteBodiesAsync(f, project.Id, 0, 300, Templated);
        f.Scalar("SELECT count(*) FROM payloads WHERE encoding = 2").ShouldBeGreaterThan(200);
        var marker = new Dictionary<Guid, string> { [Guid.CreateVersion7()] = Templated(5000).Replace("careful", "zyzzogeton", StringComparison.Ordinal) };
        var results = await f.Store.Writer.WriteAsync([Batch(project.Id, marker.Select(p => (p.Key, p.Value)).ToList())], default);
        results[0].Error.ShouldBeNull();

        var query = new RunQuery(FilterParser.Parse("\"zyzzogeton support agent\"", FilterTarget.Runs), 10, null);
        (await f.Store.Reader.QueryRunsAsync(project.Id, query, default)).Items.Select(r => r.Id).ShouldBe(marker.Keys);
    }

    private static Dictionary<Guid, string> Batchless() => [];

    private static async Task<Dictionary<Guid, string>> WriteBodiesAsync(StoreFixture f, long projectId, int from, int count, Func<int, string> body)
    {
        var written = Batchless();
        for (var i = from; i < from + count; i += 25)
        {
            var batch = Enumerable.Range(i, Math.Min(25, from + count - i)).Select(n => (Guid.CreateVersion7(), body(n))).ToList();
            await f.WriteAsync(projectId, batch.Select(b => Run(b.Item1, b.Item2)).ToList());
            foreach (var (id, text) in batch)
            {
                written[id] = text;
            }
        }

        return written;
    }

    private static WriteBatch Batch(long projectId, List<(Guid Id, string Text)> runs) => new()
    {
        ProjectId = projectId,
        Source = "test",
        ReceivedAt = StoreFixture.Day.AddHours(12),
        Runs = runs.Select(r => Run(r.Id, r.Text)).ToList(),
        Events = [],
        Sessions = [],
    };

    private static RunWrite Run(Guid id, string input) => new()
    {
        Id = id,
        Kind = RunKind.Llm,
        Name = "answer",
        Model = "gpt-4o-mini",
        StartedAt = StoreFixture.Day.AddHours(1),
        Input = new RawJson(input),
        Output = new RawJson("\"Done: " + id.ToString("N", CultureInfo.InvariantCulture) + "\""),
    };

    private static async Task ShouldReadBackAsync(StoreFixture f, long projectId, Dictionary<Guid, string> texts)
    {
        foreach (var (id, text) in texts)
        {
            var detail = await f.Store.Reader.GetRunAsync(projectId, id, default);
            detail.ShouldNotBeNull();
            detail.Run.InputInfo!.Unreadable.ShouldBeNull();
            detail.Run.Input!.Text.ShouldBe(text);
        }
    }

    private static List<long> FrameIds(StoreFixture f)
    {
        using var connection = new SqliteConnection($"Data Source={f.DatabasePath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT data FROM payloads WHERE encoding = 2;";
        using var reader = command.ExecuteReader();
        var ids = new List<long>();
        while (reader.Read())
        {
            ids.Add(PayloadDictionary.FrameDictionaryId((byte[])reader.GetValue(0)) is { } id ? id : -1);
        }

        return ids;
    }

    private static void Execute(string path, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static string Templated(int n) => Chat(n, "You are a careful support agent for Acme. Answer in two sentences and cite the policy section.", ["refund", "invoice", "shipping", "order", "customer", "policy"]);

    private static string Drifted(int n) => Chat(n, "Traduisez le texte suivant en allemand, gardez la mise en forme Markdown et les noms propres.", ["Bahnhof", "Verspätung", "Fahrkarte", "Gleis", "Anschluss", "Schaffner"]);

    private static string Chat(int n, string system, string[] words)
    {
        var random = new Random(n);
        var text = new StringBuilder("{\"messages\":[{\"role\":\"system\",\"content\":\"" + system + "\"}");
        for (var t = 0; t < 3; t++)
        {
            text.Append(CultureInfo.InvariantCulture, $",{{\"role\":\"user\",\"content\":\"Case {random.Next(100_000)}: {words[random.Next(words.Length)]} {words[random.Next(words.Length)]} {random.Next(10_000)} {words[random.Next(words.Length)]}.\"}}");
        }

        return text.Append("],\"temperature\":0.2}").ToString();
    }
}
