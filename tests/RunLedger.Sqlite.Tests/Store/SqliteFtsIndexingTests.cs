using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Payloads;
using RunLedger.Core.Query;
using RunLedger.Core.Storage;

namespace RunLedger.Sqlite.Tests.Store;

/// <summary>
/// Full-text indexing follows the commit (fts_progress.indexed_seq in the index file); search must
/// not notice: runs above the mark are found by their bodies, with the same results the index gives.
/// </summary>
public sealed class SqliteFtsIndexingTests
{
    private static readonly string[] Searches =
    [
        "\"refund policy\"", "\"REFUND\"", "\"policy refund\"", "\"creme brulee\"", "\"Rückerstattung\"", "\"ruckerstattung\"",
        "\"rück\"", "\"timeout upstream\"", "\"assistant\"", "\"nothing-like-this\"",
    ];

    [Fact]
    public async Task Search_RunsNotYetIndexed_FindsWhatTheIndexFinds()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var ids = await WriteSampleRunsAsync(f, project.Id);
        await WaitUntilIndexedAsync(f);
        var indexed = await SearchAllAsync(f, project.Id);
        indexed["\"refund policy\""].ShouldBe([ids[0]]);
        indexed["\"timeout upstream\""].ShouldBe([ids[2]]);

        // A phrase matches words in a row, not words that are merely all in the run.
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'policy AND refund'").ShouldBe(1);
        indexed["\"policy refund\""].ShouldBeEmpty();

        // Take the index away as if the indexer had not run yet: every run is in the tail.
        Execute(f, "INSERT INTO fts.runs_fts (runs_fts) VALUES ('delete-all'); UPDATE fts.fts_progress SET indexed_seq = 0, indexed_run = NULL;");
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'refund'").ShouldBe(0);
        var tail = await SearchAllAsync(f, project.Id);
        foreach (var search in Searches)
        {
            tail[search].ShouldBe(indexed[search], ignoreOrder: true, customMessage: search);
        }

        // Opening the store indexes what was left, and the results stay the same.
        await f.ReopenAsync();
        await WaitUntilIndexedAsync(f);
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'refund'").ShouldBe(1);
        var reindexed = await SearchAllAsync(f, project.Id);
        foreach (var search in Searches)
        {
            reindexed[search].ShouldBe(indexed[search], ignoreOrder: true, customMessage: search);
        }
    }

    [Fact]
    public async Task Search_RightAfterEachAcknowledgement_FindsTheRun()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        await using var pipeline = new IngestPipeline(f.Store.Writer, new IngestOptions(), new LedgerChangeNotifier(), NullLogger<IngestPipeline>.Instance);
        pipeline.Start();
        for (var i = 0; i < 30; i++)
        {
            var word = "marker" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var id = Guid.CreateVersion7();
            var batch = new WriteBatch
            {
                ProjectId = project.Id,
                Source = "test",
                ReceivedAt = StoreFixture.Day,
                Runs = [new RunWrite { Id = id, Kind = RunKind.Llm, StartedAt = StoreFixture.Day, Input = RawJson.FromString("please find " + word), Output = RawJson.FromString("ok") }],
            };
            (await pipeline.SubmitAsync(batch, default)).Written.ShouldBe(1);
            (await SearchAsync(f, project.Id, "\"" + word + "\"")).ShouldBe([id]);
        }

        await WaitUntilIndexedAsync(f);
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'please'").ShouldBe(30);
    }

    [Fact]
    public async Task Write_IndexedRunGetsNewBodies_IndexFollowsAndTailDoesNotDuplicate()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var id = Guid.CreateVersion7();
        await f.WriteAsync(project.Id, [new RunWrite { Id = id, Kind = RunKind.Llm, StartedAt = StoreFixture.Day, Input = RawJson.FromString("first words") }]);
        await WaitUntilIndexedAsync(f);
        await f.WriteAsync(project.Id, [new RunWrite { Id = id, Input = RawJson.FromString("second words") }]);
        await WaitUntilIndexedAsync(f);

        (await SearchAsync(f, project.Id, "\"first\"")).ShouldBeEmpty();
        (await SearchAsync(f, project.Id, "\"second words\"")).ShouldBe([id]);
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'words'").ShouldBe(1);
    }

    [Fact]
    public async Task Prepare_DropsTheSentText_AndTheWriteStoresAndIndexesThePreparedBodies()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var id = Guid.CreateVersion7();
        WriteBatch Batch(RunWrite run) => new() { ProjectId = project.Id, Source = "test", ReceivedAt = StoreFixture.Day, Runs = [run] };

        var first = f.Store.Writer.Prepare(Batch(new RunWrite { Id = id, Kind = RunKind.Llm, StartedAt = StoreFixture.Day, Input = RawJson.FromString("first words"), Output = RawJson.FromString("an answer") }));
        first.Runs[0].Input.ShouldBeNull();
        first.Runs[0].Output.ShouldBeNull();
        first.PreparedRuns.ShouldNotBeNull()[0].Input.ShouldNotBeNull();
        (await f.Store.Writer.WriteAsync([first], default))[0].Error.ShouldBeNull();
        await WaitUntilIndexedAsync(f);
        (await SearchAsync(f, project.Id, "\"first words\"")).ShouldBe([id]);

        // An update of an indexed run re-indexes it from the prepared bodies; the output it did not send stays.
        var second = f.Store.Writer.Prepare(Batch(new RunWrite { Id = id, Input = RawJson.FromString("second words") }));
        (await f.Store.Writer.WriteAsync([second], default))[0].Error.ShouldBeNull();
        await WaitUntilIndexedAsync(f);
        (await SearchAsync(f, project.Id, "\"first\"")).ShouldBeEmpty();
        (await SearchAsync(f, project.Id, "\"second words\"")).ShouldBe([id]);
        (await SearchAsync(f, project.Id, "\"an answer\"")).ShouldBe([id]);

        var detail = await f.Store.Reader.GetRunAsync(project.Id, id, default);
        detail.ShouldNotBeNull().Run.Input.ShouldBe(RawJson.FromString("second words"));
        detail.Run.Output.ShouldBe(RawJson.FromString("an answer"));
    }

    [Fact]
    public async Task Prepare_BodiesFromTextOrFromJson_GiveTheSameBodiesAndTheSearchTextOfTheStoredBodies()
    {
        // Small limits, so some bodies are truncated and some stored as they are.
        var payloads = new PayloadOptions { MaxBodyBytes = 300, TruncatedHeadBytes = 64, UseDictionaries = false };
        await using var f = await StoreFixture.OpenAsync(payloads, options: new SqliteStoreOptions { MaxIndexedChars = 120 });
        string?[] bodies =
        [
            null,
            "\"short\"",
            "{\"role\":\"user\",\"content\":\"caf\u00e9 and \\u00e9t\u00e9 words\"}",
            "[{\"role\":\"assistant\",\"content\":\"" + string.Concat(Enumerable.Repeat("long answer ", 60)) + "\"}]",
            "{\"plain\":\"" + string.Concat(Enumerable.Repeat("lorem ipsum ", 20)) + "\",\"n\":1}",
        ];
        var runs = new List<RunWrite>();
        foreach (var input in bodies)
        {
            foreach (var output in bodies)
            {
                foreach (var error in new[] { null, "boom" })
                {
                    runs.Add(new RunWrite
                    {
                        Id = Guid.CreateVersion7(),
                        Input = input is null ? null : new RawJson(input),
                        Output = output is null ? null : new RawJson(output),
                        Error = error is null ? null : new RunError { Message = error },
                    });
                }
            }
        }

        // The same runs as a request would carry them: bodies as the UTF-8 bytes they arrived as.
        var parsed = runs.Select(r => r with
        {
            Input = r.Input is null ? null : System.Text.Json.JsonSerializer.Deserialize<RawJson>(r.Input.Text),
            Output = r.Output is null ? null : System.Text.Json.JsonSerializer.Deserialize<RawJson>(r.Output.Text),
        }).ToList();
        WriteBatch Batch(List<RunWrite> list) => new() { ProjectId = 1, Source = "test", ReceivedAt = StoreFixture.Day, Runs = list };

        var fromText = f.Store.Writer.Prepare(Batch(runs)).PreparedRuns.ShouldNotBeNull();
        var fromJson = f.Store.Writer.Prepare(Batch(parsed)).PreparedRuns.ShouldNotBeNull();

        for (var i = 0; i < runs.Count; i++)
        {
            var run = runs[i];
            var input = run.Input is null ? null : PayloadCodec.Encode(run.Input.Text, payloads);
            var output = run.Output is null ? null : PayloadCodec.Encode(run.Output.Text, payloads);
            var expectedText = PayloadText.RunSearchText(
                input is null ? null : PayloadCodec.Decode(input.Encoding, input.Data),
                output is null ? null : PayloadCodec.Decode(output.Encoding, output.Data),
                run.Error?.Message,
                120);
            foreach (var prepared in new[] { fromText[i], fromJson[i] })
            {
                Same(prepared.Input, input);
                Same(prepared.Output, output);
                System.Text.Encoding.UTF8.GetString(prepared.SearchText.ShouldNotBeNull()).ShouldBe(expectedText, $"run {i}");
            }
        }

        static void Same(EncodedPayload? actual, EncodedPayload? expected)
        {
            if (expected is null)
            {
                actual.ShouldBeNull();
                return;
            }

            actual.ShouldNotBeNull();
            actual.Hash.ShouldBe(expected.Hash);
            actual.OriginalSize.ShouldBe(expected.OriginalSize);
            actual.Truncated.ShouldBe(expected.Truncated);
            actual.Encoding.ShouldBe(expected.Encoding);
            actual.Data.ShouldBe(expected.Data);
        }
    }

    [Fact]
    public async Task Write_RunInsertedAndUpdatedInOneBatch_IsIndexedWithItsLastBodies()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var id = Guid.CreateVersion7();
        var batch = new WriteBatch
        {
            ProjectId = project.Id,
            Source = "test",
            ReceivedAt = StoreFixture.Day,
            Runs =
            [
                new RunWrite { Id = id, Kind = RunKind.Llm, StartedAt = StoreFixture.Day, Input = RawJson.FromString("stale words") },
                new RunWrite { Id = id, Input = RawJson.FromString("fresh words") },
            ],
        };
        var results = await f.Store.Writer.WriteAsync([f.Store.Writer.Prepare(batch)], default);
        results[0].Error.ShouldBeNull();
        await WaitUntilIndexedAsync(f);

        (await SearchAsync(f, project.Id, "\"stale\"")).ShouldBeEmpty();
        (await SearchAsync(f, project.Id, "\"fresh words\"")).ShouldBe([id]);
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'stale'").ShouldBe(0);
    }

    [Fact]
    public async Task DamagedBody_SearchAdminAndIndexingGoOn_RunMatchesOnTheTextItStillHas()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var damaged = Guid.CreateVersion7();
        var healthy = Guid.CreateVersion7();
        await f.WriteAsync(project.Id,
        [
            new RunWrite { Id = damaged, Kind = RunKind.Llm, StartedAt = StoreFixture.Day, Status = RunStatus.Failed, Input = RawJson.FromString("rotten words"), Error = new RunError { Type = "X", Message = "upstream exploded" } },
            new RunWrite { Id = healthy, Kind = RunKind.Llm, StartedAt = StoreFixture.Day, Input = RawJson.FromString("healthy words") },
        ]);
        await WaitUntilIndexedAsync(f);

        // Bit rot (an encoding this version does not know) in one body, and the index to redo.
        Execute(f,
            "UPDATE payloads SET encoding = 99 WHERE id = (SELECT input_payload FROM runs WHERE error_message IS NOT NULL); " +
            "INSERT INTO fts.runs_fts (runs_fts) VALUES ('delete-all'); UPDATE fts.fts_progress SET indexed_seq = 0, indexed_run = NULL;");

        // The tail search skips the damaged body instead of failing every search.
        (await SearchAsync(f, project.Id, "\"healthy words\"")).ShouldBe([healthy]);
        (await SearchAsync(f, project.Id, "\"upstream exploded\"")).ShouldBe([damaged]);
        (await SearchAsync(f, project.Id, "\"rotten\"")).ShouldBeEmpty();

        // The indexer gets past it (indexing what the run still has), and admin writes still work.
        await f.ReopenAsync();
        await WaitUntilIndexedAsync(f);
        (await f.Store.Admin.GetOrCreateProjectAsync("other", default)).Name.ShouldBe("other");
        (await SearchAsync(f, project.Id, "\"upstream exploded\"")).ShouldBe([damaged]);
        (await SearchAsync(f, project.Id, "\"healthy words\"")).ShouldBe([healthy]);
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'exploded'").ShouldBe(1);
    }

    [Fact]
    public async Task TruncatedBody_SearchedByTheStoredHead_WhetherIndexedAtCommitFromTheTailOrAfterARestart()
    {
        await using var f = await StoreFixture.OpenAsync(new PayloadOptions { MaxBodyBytes = 2048, TruncatedHeadBytes = 512 });
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var id = Guid.CreateVersion7();
        string Long(string word) => "{\"prompt\":\"" + string.Concat(Enumerable.Repeat("lorem ", 1000)) + word + "\"}";
        var batch = new WriteBatch
        {
            ProjectId = project.Id,
            Source = "test",
            ReceivedAt = StoreFixture.Day,
            Runs = [new RunWrite { Id = id, Kind = RunKind.Llm, StartedAt = StoreFixture.Day, Input = new RawJson(Long("insertneedle")) }],
        };
        (await f.Store.Writer.WriteAsync([f.Store.Writer.Prepare(batch)], default))[0].Error.ShouldBeNull();
        (await SearchAsync(f, project.Id, "\"insertneedle\"")).ShouldBeEmpty();
        await WaitUntilIndexedAsync(f);
        (await SearchAsync(f, project.Id, "\"insertneedle\"")).ShouldBeEmpty();
        (await SearchAsync(f, project.Id, "\"lorem lorem\"")).ShouldBe([id]);

        // An indexed run gets a new long body: searched at once by its stored head too.
        await f.WriteAsync(project.Id, [new RunWrite { Id = id, Output = new RawJson(Long("updateneedle")) }]);
        (await SearchAsync(f, project.Id, "\"updateneedle\"")).ShouldBeEmpty();
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'insertneedle OR updateneedle'").ShouldBe(0);

        // Rebuilt from the stored bodies, the index answers the same.
        Execute(f, "INSERT INTO fts.runs_fts (runs_fts) VALUES ('delete-all'); UPDATE fts.fts_progress SET indexed_seq = 0, indexed_run = NULL;");
        await f.ReopenAsync();
        await WaitUntilIndexedAsync(f);
        (await SearchAsync(f, project.Id, "\"lorem lorem\"")).ShouldBe([id]);
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'insertneedle OR updateneedle'").ShouldBe(0);
    }

    [Fact]
    public async Task Write_AnotherProcessIndexedTheRun_UpdateReindexesIt()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        await f.WriteAsync(project.Id, [new RunWrite { Id = Guid.CreateVersion7(), Kind = RunKind.Llm, StartedAt = StoreFixture.Day, Input = RawJson.FromString("earlier") }]);

        // This store's indexer indexes what it has and stops, so it cannot pick up the other's run.
        await ((SqliteWriter)f.Store.Writer).StopIndexerAsync();

        // Another process on the same file (a backup, a migration source) writes a run and indexes it.
        var id = Guid.CreateVersion7();
        await using (var other = new SqliteLedgerStore(f.DatabasePath, new SqliteStoreOptions(), new PayloadOptions(), TimeProvider.System))
        {
            await other.InitializeAsync(default);
            var batch = new WriteBatch
            {
                ProjectId = project.Id,
                Source = "test",
                ReceivedAt = StoreFixture.Day,
                Runs = [new RunWrite { Id = id, Kind = RunKind.Llm, StartedAt = StoreFixture.Day, Input = RawJson.FromString("first words") }],
            };
            (await other.Writer.WriteAsync([batch], default))[0].Error.ShouldBeNull();
        }

        f.Scalar("SELECT indexed_seq FROM fts.fts_progress").ShouldBe(f.Scalar("SELECT max(seq) FROM runs"));

        // This store updates the run the other one indexed (its own indexer is stopped): search
        // follows at once, reading the changed run from its bodies, not from the index.
        await f.WriteAsync(project.Id, [new RunWrite { Id = id, Input = RawJson.FromString("second words") }]);
        (await SearchAsync(f, project.Id, "\"second words\"")).ShouldBe([id]);
        (await SearchAsync(f, project.Id, "\"first\"")).ShouldBeEmpty();
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'first'").ShouldBe(1);
        f.Scalar("SELECT count(*) FROM fts_pending").ShouldBe(1);

        // The next indexer replaces the text and clears the mark.
        await f.ReopenAsync();
        await WaitUntilIndexedAsync(f);
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'first'").ShouldBe(0);
        (await SearchAsync(f, project.Id, "\"second words\"")).ShouldBe([id]);
    }

    [Fact]
    public async Task Open_ForReadingOnly_RunsNoIndexerOfItsOwn()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var id = Guid.CreateVersion7();
        await f.WriteAsync(project.Id, [new RunWrite { Id = id, Kind = RunKind.Llm, StartedAt = StoreFixture.Day, Input = RawJson.FromString("waiting words") }]);
        await ((SqliteWriter)f.Store.Writer).StopIndexerAsync();
        Execute(f, "INSERT INTO fts.runs_fts (runs_fts) VALUES ('delete-all'); UPDATE fts.fts_progress SET indexed_seq = 0, indexed_run = NULL;");

        // A backup or migration source opened while the server owns the index.
        await using (var source = new SqliteLedgerStore(f.DatabasePath, new SqliteStoreOptions { IndexInBackground = false }, new PayloadOptions(), TimeProvider.System))
        {
            await source.InitializeAsync(default);
            var page = await source.Reader.QueryRunsAsync(project.Id, new RunQuery(FilterParser.Parse("\"waiting words\"", FilterTarget.Runs), 100, null), default);
            page.Items.Select(r => r.Id).ShouldBe([id]);
        }

        f.Scalar("SELECT indexed_seq FROM fts.fts_progress").ShouldBe(0);
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'waiting'").ShouldBe(0);
    }

    [Fact]
    public async Task Indexer_UnexpectedError_KeepsTryingAndClosingStillWorks()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var id = Guid.CreateVersion7();
        await f.WriteAsync(project.Id, [new RunWrite { Id = id, Kind = RunKind.Llm, StartedAt = StoreFixture.Day, Input = RawJson.FromString("damaged words") }]);
        await WaitUntilIndexedAsync(f);
        await ((SqliteWriter)f.Store.Writer).StopIndexerAsync();

        // A run id stored as a number instead of bytes makes indexing fail with an error that is no SqliteException.
        Execute(f, "INSERT INTO fts.runs_fts (runs_fts) VALUES ('delete-all'); UPDATE fts.fts_progress SET indexed_seq = 0, indexed_run = NULL; UPDATE runs SET id = 12345;");
        var log = new ListLogger();
        var store = new SqliteLedgerStore(f.DatabasePath, new SqliteStoreOptions(), new PayloadOptions(), TimeProvider.System, log);
        try
        {
            await store.InitializeAsync(default);
            for (var i = 0; i < 600 && log.Messages.IsEmpty; i++)
            {
                await Task.Delay(50);
            }

            log.Messages.ShouldNotBeEmpty();
            (await store.CountUnindexedRunsAsync(default)).ShouldBe(1);

            // Repaired: the indexer, still alive, gets there on a later try.
            Execute(f, $"UPDATE runs SET id = x'{Convert.ToHexString(id.ToByteArray(bigEndian: true))}';");
            await WaitUntilIndexedAsync(f);
            (await store.CountUnindexedRunsAsync(default)).ShouldBe(0);
            f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'damaged'").ShouldBe(1);
        }
        finally
        {
            await store.DisposeAsync();
        }
    }

    private sealed class ListLogger : ILogger
    {
        public System.Collections.Concurrent.ConcurrentQueue<string> Messages { get; } = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Messages.Enqueue(formatter(state, exception));
    }

    [Fact]
    public async Task Write_TextsWaitingForTheIndexer_AreCappedBySizeAndTheRestIsReadBack()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var writer = (SqliteWriter)f.Store.Writer;
        await writer.StopIndexerAsync();
        writer.MaxPendingBytes = 1_000;

        // Large bodies pile up while nothing indexes them: memory stays within the cap.
        var ids = new List<Guid>();
        for (var i = 0; i < 10; i++)
        {
            var id = Guid.CreateVersion7();
            ids.Add(id);
            var batch = new WriteBatch
            {
                ProjectId = project.Id,
                Source = "test",
                ReceivedAt = StoreFixture.Day,
                Runs = [new RunWrite { Id = id, Kind = RunKind.Llm, StartedAt = StoreFixture.Day, Input = RawJson.FromString("bulky " + new string('x', 300)) }],
            };
            (await writer.WriteAsync([writer.Prepare(batch)], default))[0].Error.ShouldBeNull();
        }

        writer.PendingBytes.ShouldBeInRange(1, 1_000);

        // Runs whose text was not kept are indexed from their stored bodies.
        await f.ReopenAsync();
        await WaitUntilIndexedAsync(f);
        (await SearchAsync(f, project.Id, "\"bulky\"")).ShouldBe(ids, ignoreOrder: true);
    }

    [Fact]
    public async Task Import_WhileRunsWaitForTheIndexer_LeavesThemToItAndSkipsNone()
    {
        await using var source = await StoreFixture.OpenAsync();
        var sourceProject = await source.Store.Admin.GetOrCreateProjectAsync("p", default);
        var imported = Guid.CreateVersion7();
        await source.WriteAsync(sourceProject.Id, [new RunWrite { Id = imported, Kind = RunKind.Llm, StartedAt = StoreFixture.Day, Input = RawJson.FromString("imported words") }]);

        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var waiting = Guid.CreateVersion7();
        await f.WriteAsync(project.Id, [new RunWrite { Id = waiting, Kind = RunKind.Llm, StartedAt = StoreFixture.Day, Input = RawJson.FromString("waiting words") }]);
        await WaitUntilIndexedAsync(f);

        // As if another process had written the run without indexing it.
        Execute(f, "INSERT INTO fts.runs_fts (runs_fts) VALUES ('delete-all'); UPDATE fts.fts_progress SET indexed_seq = 0, indexed_run = NULL;");
        var transfer = ((RunLedger.Core.Storage.Transfer.ITransferableStore)source.Store).Transfer;
        var records = new List<RunLedger.Core.Storage.Transfer.TransferRecord>();
        records.AddRange(await transfer.ExportProjectsAsync(default));
        records.AddRange(await transfer.ExportRunsAsync("p", null, 100, default));

        await ((RunLedger.Core.Storage.Transfer.ITransferableStore)f.Store).Transfer.ImportAsync(records, new RunLedger.Core.Storage.Transfer.TransferCheckpoint("src", "end", true), default);
        await WaitUntilIndexedAsync(f);
        (await SearchAsync(f, project.Id, "\"waiting words\"")).ShouldBe([waiting]);
        (await SearchAsync(f, project.Id, "\"imported words\"")).ShouldBe([imported]);
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'words'").ShouldBe(2);
    }

    private static async Task<Guid[]> WriteSampleRunsAsync(StoreFixture f, long projectId)
    {
        Guid[] ids = [Guid.CreateVersion7(), Guid.CreateVersion7(), Guid.CreateVersion7(), Guid.CreateVersion7()];
        await f.WriteAsync(projectId,
        [
            new RunWrite { Id = ids[0], Kind = RunKind.Llm, StartedAt = StoreFixture.Day, Input = RawJson.FromString("What is your refund policy?"), Output = RawJson.FromString("Refunds within 30 days.") },
            new RunWrite { Id = ids[1], Kind = RunKind.Llm, StartedAt = StoreFixture.Day, Input = new RawJson("""[{"role":"system","content":"You are an assistant."},{"role":"user","content":"Crème Brûlée recipe"}]"""), Output = RawJson.FromString("Die Rückerstattung dauert.") },
        ]);
        await f.WriteAsync(projectId,
        [
            new RunWrite { Id = ids[2], Kind = RunKind.Tool, StartedAt = StoreFixture.Day, Status = RunStatus.Failed, Error = new RunError { Type = "Timeout", Message = "Timeout: upstream did not answer" } },
            new RunWrite { Id = ids[3], Kind = RunKind.Llm, StartedAt = StoreFixture.Day, Input = RawJson.FromString(new string('x', 300) + " assistant " + string.Concat(Enumerable.Repeat("padding ", 200))) },
        ]);
        return ids;
    }

    private static async Task<Dictionary<string, Guid[]>> SearchAllAsync(StoreFixture f, long projectId)
    {
        var results = new Dictionary<string, Guid[]>(StringComparer.Ordinal);
        foreach (var search in Searches)
        {
            results[search] = await SearchAsync(f, projectId, search);
        }

        return results;
    }

    internal static async Task<Guid[]> SearchAsync(StoreFixture f, long projectId, string filter)
    {
        var page = await f.Store.Reader.QueryRunsAsync(projectId, new RunQuery(FilterParser.Parse(filter, FilterTarget.Runs), 100, null), default);
        return [.. page.Items.Select(r => r.Id)];
    }

    /// <summary>
    /// Waits for the background indexer to reach the newest run, replace every changed text and
    /// own the ledger's token (not a timing assertion).
    /// </summary>
    [Fact]
    public async Task TextQueuedAfterTheIndexerPassedItsRun_IsNotHeld()
    {
        // The writer hands a group's texts over just after its commit; when the indexer has taken
        // that group from the bodies in between, a held text would never be taken again and the
        // held texts would grow to their cap.
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var id = Guid.CreateVersion7();
        await f.WriteAsync(project.Id, [new RunWrite { Id = id, Kind = RunKind.Llm, StartedAt = StoreFixture.Day, Input = RawJson.FromString("\"late\"") }]);
        await WaitUntilIndexedAsync(f);
        var writer = (SqliteWriter)f.Store.Writer;
        writer.SearchIndex!.Queue([new PendingText(f.Scalar("SELECT max(seq) FROM runs"), id, System.Text.Encoding.UTF8.GetBytes("late"))]);
        for (var i = 0; i < 3; i++)
        {
            await f.WriteAsync(project.Id, [new RunWrite { Id = Guid.CreateVersion7(), Kind = RunKind.Llm, StartedAt = StoreFixture.Day, Input = RawJson.FromString("\"more\"") }]);
            await WaitUntilIndexedAsync(f);
        }

        writer.PendingBytes.ShouldBe(0);
        (await SearchAsync(f, project.Id, "late")).ShouldBe([id]);
    }

    internal static async Task WaitUntilIndexedAsync(StoreFixture f)
    {
        for (var i = 0; i < 600; i++)
        {
            if (f.Scalar(
                "SELECT (SELECT indexed_seq FROM fts.fts_progress) >= (SELECT coalesce(max(seq), 0) FROM runs) " +
                "AND NOT EXISTS (SELECT 1 FROM fts_pending) AND (SELECT token FROM fts.fts_progress) = (SELECT token FROM fts_owner)") == 1)
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("The indexer did not catch up within 30 s.");
    }

    /// <summary>Changes the ledger behind the store's back, with its index file attached as <c>fts</c>.</summary>
    internal static void Execute(StoreFixture f, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={f.DatabasePath};Pooling=False");
        connection.Open();
        using (var attach = connection.CreateCommand())
        {
            attach.CommandText = "ATTACH DATABASE @path AS fts;";
            attach.Parameters.AddWithValue("@path", f.IndexPath);
            attach.ExecuteNonQuery();
        }

        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
