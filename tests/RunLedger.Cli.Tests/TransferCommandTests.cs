using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using RunLedger.Core.Ingest;
using RunLedger.Core.Payloads;
using RunLedger.Core.Storage.Transfer;
using RunLedger.Core.Workload;
using RunLedger.Sqlite;

namespace RunLedger.Cli.Tests;

/// <summary><c>runledger migrate</c>, <c>backup</c> and <c>restore</c> on real SQLite files (and a real server for the online backup).</summary>
public sealed class TransferCommandTests : IDisposable
{
    private static readonly DateTimeOffset NightStart = new(2026, 11, 21, 22, 0, 0, TimeSpan.Zero);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "runledger-cli-transfer", Guid.NewGuid().ToString("N"));

    public TransferCommandTests() => Directory.CreateDirectory(_directory);

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task Migrate_SqliteToSqliteWithVerify_ReportsEveryRunIdenticalAndASecondRunWritesNothing()
    {
        var source = await CreateWorkloadAsync("source.db", runs: 400);
        var host = Host();
        (await host.RunAsync("migrate", "--from", source, "--to", "target.db", "--verify")).ShouldBe(0, host.Error.ToString());
        var output = host.Output.ToString();
        output.ShouldContain("Copied:");
        output.ShouldContain("every run identical (400 of 400");
        output.ShouldContain("copied "); // plain progress lines: the output is not a terminal

        var again = Host();
        (await again.RunAsync("migrate", "--from", source, "--to", "target.db", "--verify")).ShouldBe(0, again.Error.ToString());
        again.Output.ToString().ShouldContain("Copied: 0 records written");
        again.Output.ToString().ShouldContain("every run identical (400 of 400");
    }

    [Fact]
    public async Task Migrate_AfterAnInterruptedCopy_ResumesAndEndsIdentical()
    {
        var source = await CreateWorkloadAsync("source.db", runs: 300);
        var target = Path.Combine(_directory, "target.db");
        await using (var from = await OpenAsync(source))
        await using (var to = await OpenAsync(target))
        {
            using var stop = new CancellationTokenSource();
            var pages = 0;
            await Should.ThrowAsync<OperationCanceledException>(() => LedgerCopier.CopyAsync(
                new StoreTransferSource(from.Transfer, 40), to.Transfer, new Inline(_ => { if (++pages == 4) { stop.Cancel(); } }), stop.Token));
        }

        var host = Host();
        (await host.RunAsync("migrate", "--from", source, "--to", target, "--verify")).ShouldBe(0, host.Error.ToString());
        host.Output.ToString().ShouldContain("Resumed an interrupted copy and finished it");
        host.Output.ToString().ShouldContain("every run identical (300 of 300");
    }

    [Fact]
    public async Task Migrate_TargetChangedAfterTheCopy_VerifyFailsNamingTheRun()
    {
        var source = await CreateWorkloadAsync("source.db", runs: 50);
        var first = Host();
        (await first.RunAsync("migrate", "--from", source, "--to", "target.db")).ShouldBe(0, first.Error.ToString());
        string changed;
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_directory, "target.db")};Pooling=False"))
        {
            connection.Open();
            using var select = connection.CreateCommand();
            select.CommandText = "SELECT id FROM runs ORDER BY id LIMIT 1 OFFSET 7;";
            var id = (byte[])select.ExecuteScalar()!;
            changed = new Guid(id, bigEndian: true).ToString();
            using var update = connection.CreateCommand();
            update.CommandText = "UPDATE runs SET cost_nanos = coalesce(cost_nanos, 0) + 1 WHERE id = @id;";
            update.Parameters.AddWithValue("@id", id);
            update.ExecuteNonQuery();
        }

        // The changed run has the same updated_at, so a copy leaves it; verify catches it.
        var host = Host();
        (await host.RunAsync("migrate", "--from", source, "--to", "target.db", "--verify")).ShouldBe(1);
        var output = host.Output.ToString();
        output.ShouldContain("Verify failed: 1 difference(s); 49 of 50 runs identical");
        output.ShouldContain("First differing runs: " + changed);
    }

    [Fact]
    public async Task Migrate_DirectoryOfJsonFilesWithMapping_ImportsVerifiesAndSkipsThemTheSecondTime()
    {
        var files = Path.Combine(_directory, "traces");
        Directory.CreateDirectory(files);
        for (var i = 0; i < 30; i++)
        {
            var started = NightStart.AddMinutes(i).ToString("O", CultureInfo.InvariantCulture);
            await File.WriteAllTextAsync(Path.Combine(files, $"trace-{i:D3}.json"), $$"""
                { "trace_id": "t{{i}}", "llm": { "model_name": "gpt-4o", "vendor": "openai" },
                  "request": { "messages": [ { "role": "user", "content": "Question number {{i}} about the refund policy" } ] },
                  "response": { "text": "Answer {{i}}" }, "started": "{{started}}", "status": "succeeded",
                  "tokens": { "prompt": {{10 + i}}, "completion": {{i}} }, "sessionId": "import-batch" }
                """);
        }

        string[] mapping =
        [
            "--map", "model=llm.model_name", "--map", "provider=llm.vendor", "--map", "input=request.messages",
            "--map", "output=response.text", "--map", "startedAt=started", "--map", "usage.inputTokens=tokens.prompt",
            "--map", "usage.outputTokens=tokens.completion", "--map", "name=trace_id",
        ];
        var host = Host();
        (await host.RunAsync(["migrate", "--from", files, "--to", "imported.db", "--verify", .. mapping])).ShouldBe(0, host.Error.ToString());
        host.Output.ToString().ShouldContain("Imported: 30 runs written, 0 already there, 0 rejected");
        host.Output.ToString().ShouldContain("every run identical (30 of 30");

        await using (var store = await OpenAsync(Path.Combine(_directory, "imported.db")))
        {
            var project = (await store.Admin.FindProjectAsync("default", default))!;
            var page = await store.Reader.QueryRunsAsync(project.Id, new RunLedger.Core.Storage.RunQuery(RunLedger.Core.Query.FilterParser.Parse("name:t7", RunLedger.Core.Query.FilterTarget.Runs), 10, null, IncludeBodies: true), default);
            var run = page.Items.ShouldHaveSingleItem();
            run.Model.ShouldBe("gpt-4o");
            run.Provider.ShouldBe("openai");
            run.Source.ShouldBe("import");
            run.Usage.InputTokens.ShouldBe(17);
            run.Input!.Text.ShouldContain("Question number 7");
            run.StartedAt.ShouldBe(NightStart.AddMinutes(7));
            var session = (await store.Reader.GetSessionAsync(project.Id, "import-batch", default))!.Session;
            session.RunCount.ShouldBe(30);
        }

        var again = Host();
        (await again.RunAsync(["migrate", "--from", files, "--to", "imported.db", .. mapping])).ShouldBe(0, again.Error.ToString());
        again.Output.ToString().ShouldContain("Imported: 0 runs written, 30 already there");
    }

    [Fact]
    public async Task Backup_WhileAServerWrites_RestoresToAnIdenticalLedger()
    {
        var data = Path.Combine(_directory, "data");
        Directory.CreateDirectory(data);
        await using var server = await ServerProcess.StartAsync(data, ServerProcess.FreePort());
        using var client = new HttpClient { BaseAddress = new Uri(server.Url) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ServerProcess.AdminKey);
        using var stop = new CancellationTokenSource();
        var acknowledged = 0;
        var writer = Task.Run(async () =>
        {
            var n = 0;
            while (!stop.IsCancellationRequested)
            {
                var runs = string.Join(",", Enumerable.Range(0, 20).Select(i =>
                    $$"""{"kind":"llm","name":"live","model":"gpt-4o","status":"succeeded","sessionId":"s{{n % 3}}","input":"question {{n}}-{{i}}","output":"answer","usage":{"inputTokens":5,"outputTokens":2},"costUsd":0.0001}"""));
                using var content = new StringContent("{\"runs\":[" + runs + "]}", Encoding.UTF8, "application/json");
                using var response = await client.PostAsync("/v1/ingest", content, CancellationToken.None);
                response.StatusCode.ShouldBe(HttpStatusCode.OK);
                n++;
                Interlocked.Add(ref acknowledged, 20);
            }
        });

        while (Volatile.Read(ref acknowledged) < 200)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        var backup = Host();
        (await backup.RunAsync("backup", "night.db", "--data", data)).ShouldBe(0, backup.Error.ToString());
        backup.Output.ToString().ShouldContain("SQLite database");
        var during = Volatile.Read(ref acknowledged);
        // Wait for the next acknowledgement rather than a fixed time: the point is that writes continue.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Volatile.Read(ref acknowledged) <= during && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        stop.Cancel();
        await writer;
        acknowledged.ShouldBeGreaterThan(during, "the server kept writing while the backup ran");

        var restore = Host();
        (await restore.RunAsync("restore", "night.db", "--store", "restored.db")).ShouldBe(0, restore.Error.ToString());
        restore.Output.ToString().ShouldContain("Restored");

        // The tool does not build the full-text index (minutes per million runs): the server that
        // opens the ledger next does, in the background.
        File.Exists(Path.Combine(_directory, "restored.db.fts")).ShouldBeFalse();

        // The backup is a consistent snapshot: whole batches, every run with its events and in its session's totals.
        await using var restored = await OpenAsync(Path.Combine(_directory, "restored.db"));
        var counts = await restored.Transfer.CountAsync(default);
        counts.Runs.ShouldBeGreaterThanOrEqualTo(200);
        (counts.Runs % 20).ShouldBe(0);
        var project = (await restored.Admin.FindProjectAsync("default", default))!;
        var sessions = await restored.Reader.QuerySessionsAsync(project.Id, new RunLedger.Core.Storage.SessionQuery(null, 10, null), default);
        sessions.Items.Sum(s => s.RunCount).ShouldBe(counts.Runs);
        (await restored.Admin.CountKeysAsync(default)).ShouldBe(1);

        await using var snapshot = await OpenAsync(Path.Combine(_directory, "night.db"));
        var verify = await LedgerVerifier.VerifyAsync(new StoreTransferSource(snapshot.Transfer), new StoreTransferSource(restored.Transfer), 10, default);
        verify.Differences.ShouldBeEmpty();
        verify.RunsIdentical.ShouldBe(counts.Runs);
    }

    [Fact]
    public async Task Restore_IntoAStoreWithData_RefusesWithoutForceAndReplacesWithIt()
    {
        var source = await CreateWorkloadAsync("source.db", runs: 60);
        var other = await CreateWorkloadAsync("other.db", runs: 20, seed: 9);
        var backup = Host();
        (await backup.RunAsync("backup", "logical.jsonl.gz", "--store", source, "--logical")).ShouldBe(0, backup.Error.ToString());
        backup.Output.ToString().ShouldContain("logical export");

        var refused = Host();
        (await refused.RunAsync("restore", "logical.jsonl.gz", "--store", other)).ShouldBe(2);
        refused.Error.ToString().ShouldContain("already holds 20 runs");
        refused.Error.ToString().ShouldContain("--force");

        var forced = Host();
        (await forced.RunAsync("restore", "logical.jsonl.gz", "--store", other, "--force")).ShouldBe(0, forced.Error.ToString());
        forced.Output.ToString().ShouldContain("60 runs");

        await using var a = await OpenAsync(source);
        await using var b = await OpenAsync(other);
        var verify = await LedgerVerifier.VerifyAsync(new StoreTransferSource(a.Transfer), new StoreTransferSource(b.Transfer), 10, default);
        verify.Differences.ShouldBeEmpty();
        verify.RunsIdentical.ShouldBe(60);
    }

    [Fact]
    public async Task Migrate_FromABackupWrittenBeforeTheHourlyTier_AddsTheHourlyRollupsAndVerifies()
    {
        var source = await CreateWorkloadAsync("source.db", runs: 300);
        var backup = Host();
        (await backup.RunAsync("backup", "logical.jsonl.gz", "--store", source, "--logical")).ShouldBe(0, backup.Error.ToString());

        // The same backup as version 1 wrote it: no hourly rollup rows.
        var old = Path.Combine(_directory, "old.jsonl.gz");
        var dropped = WriteAsVersion1(Path.Combine(_directory, "logical.jsonl.gz"), old);
        dropped.ShouldBeGreaterThan(0);
        TransferFile.ReadHeader(old).Version.ShouldBe(1);

        var host = Host();
        (await host.RunAsync("migrate", "--from", old, "--to", "target.db", "--verify")).ShouldBe(0, host.Output.ToString() + host.Error.ToString());
        host.Output.ToString().ShouldContain("every run identical (300 of 300");

        // The target's hourly rows are those the source's writer kept.
        await using var a = await OpenAsync(source);
        await using var b = await OpenAsync(Path.Combine(_directory, "target.db"));
        var verify = await LedgerVerifier.VerifyAsync(new StoreTransferSource(a.Transfer), new StoreTransferSource(b.Transfer), 10, default);
        verify.Differences.ShouldBeEmpty();

        var restore = Host();
        (await restore.RunAsync("restore", "old.jsonl.gz", "--store", "restored.db")).ShouldBe(0, restore.Error.ToString());
        await using var c = await OpenAsync(Path.Combine(_directory, "restored.db"));
        (await LedgerVerifier.VerifyAsync(new StoreTransferSource(a.Transfer), new StoreTransferSource(c.Transfer), 10, default)).Differences.ShouldBeEmpty();
    }

    /// <summary>Rewrites a logical backup as format version 1: without hourly rollups; returns how many records were left out.</summary>
    private static int WriteAsVersion1(string from, string to)
    {
        var lines = new List<string>();
        using (var reader = new StreamReader(new System.IO.Compression.GZipStream(File.OpenRead(from), System.IO.Compression.CompressionMode.Decompress)))
        {
            while (reader.ReadLine() is { } line)
            {
                lines.Add(line);
            }
        }

        var header = System.Text.Json.Nodes.JsonNode.Parse(lines[0])!;
        header["version"] = 1;
        var records = lines.Skip(1).Take(lines.Count - 2)
            .Where(l => System.Text.Json.Nodes.JsonNode.Parse(l)!["bucketSize"]?.GetValue<long>() != 3600)
            .ToList();
        var end = System.Text.Json.Nodes.JsonNode.Parse(lines[^1])!;
        end["records"] = records.Count;
        using var writer = new StreamWriter(new System.IO.Compression.GZipStream(File.Create(to), System.IO.Compression.CompressionLevel.Fastest), new UTF8Encoding(false));
        writer.WriteLine(header.ToJsonString());
        foreach (var record in records)
        {
            writer.WriteLine(record);
        }

        writer.WriteLine(end.ToJsonString());
        return lines.Count - 2 - records.Count;
    }

    [Fact]
    public async Task BadInput_GivesAClearErrorAndExitCode2()
    {
        var missingFile = Host();
        (await missingFile.RunAsync("restore", "nope.db", "--store", "x.db")).ShouldBe(2);
        missingFile.Error.ToString().ShouldContain("There is no backup file");

        var missingSource = Host();
        (await missingSource.RunAsync("migrate", "--from", "missing.db", "--to", "x.db")).ShouldBe(2);
        missingSource.Error.ToString().ShouldContain("There is no SQLite database at");
        File.Exists(Path.Combine(_directory, "missing.db")).ShouldBeFalse();

        var source = await CreateWorkloadAsync("source.db", runs: 10);
        var unknownStore = Host();
        (await unknownStore.RunAsync("migrate", "--from", source, "--to", "mysql://db/ledger")).ShouldBe(2);
        unknownStore.Error.ToString().ShouldContain("'mysql://' is not a store this build knows");

        var notABackup = Host();
        await File.WriteAllTextAsync(Path.Combine(_directory, "notes.txt"), "hello");
        (await notABackup.RunAsync("restore", "notes.txt", "--store", "x.db")).ShouldBe(2);
        notABackup.Error.ToString().ShouldContain("neither a SQLite database nor a gzip logical export");

        var files = Path.Combine(_directory, "docs");
        Directory.CreateDirectory(files);
        await File.WriteAllTextAsync(Path.Combine(files, "a.json"), """{"llm":{"model_name":"gpt-4o"}}""");
        var unknownField = Host();
        (await unknownField.RunAsync("migrate", "--from", files, "--to", "x.db", "--map", "modle=llm.model_name")).ShouldBe(2);
        unknownField.Error.ToString().ShouldContain("'modle' is not a run field");

        var missingPath = Host();
        (await missingPath.RunAsync("migrate", "--from", files, "--to", "x.db", "--map", "model=llm.name")).ShouldBe(2);
        missingPath.Error.ToString().ShouldContain("a.json: --map model=llm.name: 'llm.name' is not in the document");

        var same = Host();
        (await same.RunAsync("migrate", "--from", source, "--to", source)).ShouldBe(2);
        same.Error.ToString().ShouldContain("the same store");
    }

    private TestHost Host() => new() { CurrentDirectory = _directory, Time = TimeProvider.System };

    private async Task<string> CreateWorkloadAsync(string file, int runs, int seed = 3)
    {
        var path = Path.Combine(_directory, file);
        await using var store = await OpenAsync(path);
        var project = await store.Admin.GetOrCreateProjectAsync("default", default);
        var validator = new IngestValidator(new IngestOptions());
        var generator = new WorkloadGenerator(new WorkloadOptions { Seed = seed, NightStart = NightStart, TargetRuns = runs, Sessions = 3 });
        foreach (var request in generator.Generate(100))
        {
            var validated = validator.Validate(request, project.Id, "demo", NightStart.AddHours(9));
            var results = await store.Writer.WriteAsync([validated.Batch], default);
            results[0].Error.ShouldBeNull();
        }

        return path;
    }

    private static async Task<SqliteLedgerStore> OpenAsync(string path)
    {
        var store = new SqliteLedgerStore(path, new SqliteStoreOptions(), new PayloadOptions(), TimeProvider.System);
        await store.InitializeAsync(default);
        return store;
    }

    private sealed class Inline(Action<CopyProgress> report) : IProgress<CopyProgress>
    {
        public void Report(CopyProgress value) => report(value);
    }
}
