using System.Buffers;
using System.Globalization;
using Microsoft.Data.Sqlite;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Query;
using RunLedger.Core.Storage;
using RunLedger.Core.Storage.Transfer;

namespace RunLedger.Sqlite.Tests.Store;

/// <summary>
/// Run events kept packed (schema 12, <see cref="SqliteRunEvents"/>): every reader returns the type
/// and data the event had when it happened, byte for byte as the full JSON, whatever the run
/// became later or whether it is still stored.
/// </summary>
public sealed class SqliteRunEventPackingTests
{
    private static readonly DateTimeOffset Start = StoreFixture.Day.AddHours(1);

    [Fact]
    public async Task RunEvents_EveryShapeAndLaterUpdates_ReadBackAsTheyHappenedAndArePacked()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = (await f.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;
        var parent = Guid.CreateVersion7();
        var other = Guid.CreateVersion7();
        var expected = new List<(Guid Run, string Type, string Data)>();

        async Task WriteAndRecordAsync(RunWrite write)
        {
            var before = await f.Store.Reader.GetLastEventIdAsync(project, default);
            await f.WriteAsync(project, [write]);
            var written = await f.Store.Reader.ReadEventsAsync(project, before, null, 10, default);
            var row = ReadRow(f, write.Id);
            var single = written.Where(e => e.RunId == write.Id).ShouldHaveSingleItem();

            // What a store that keeps the full data (PostgreSQL) writes for the run as it is now.
            single.Data!.Text.ShouldBe(RunMerge.RunEventData(row.Id, row.Name, RunMerge.RunEventValuesOf(row)));
            expected.Add((write.Id, single.Type, single.Data.Text));
        }

        await WriteAndRecordAsync(new RunWrite { Id = parent, Kind = RunKind.Pipeline, Name = "root", StartedAt = Start });
        await WriteAndRecordAsync(new RunWrite { Id = other, Kind = RunKind.Agent, Name = "other root", StartedAt = Start, EndedAt = Start.AddSeconds(1) });
        var kinds = Enum.GetValues<RunKind>();
        var statuses = Enum.GetValues<RunStatus>();
        string?[] errors = [null, "", "boom \"quoted\" back\\slash\nline\ttab <b>&'+ \u0001 ünï 日本 😀", new string('x', 3000)];
        string?[] names = [null, "", "plain", "quote \" <name> ünï 😀"];
        var runs = new List<Guid>();
        for (var i = 0; i < 24; i++)
        {
            var id = Guid.CreateVersion7();
            runs.Add(id);
            var status = statuses[i % statuses.Length];
            await WriteAndRecordAsync(new RunWrite
            {
                Id = id,
                ParentId = i % 3 == 0 ? null : parent,
                Kind = kinds[i % kinds.Length],
                Name = names[i % names.Length],
                Status = status,
                Model = i % 4 == 1 ? "gpt-4o" : i % 4 == 2 ? "mödel \"x\"" : null,
                StartedAt = Start.AddMinutes(i),
                EndedAt = status == RunStatus.Running ? null : Start.AddMinutes(i).AddMilliseconds(i * 1234.567),
                CostUsd = i % 3 == 1 ? 0.0020024m : i % 3 == 2 ? 12.5m : null,
                Usage = i % 5 == 0 ? null : new Usage { InputTokens = i * 100, OutputTokens = i },
                Error = errors[i % errors.Length] is { } message ? new RunError { Message = message } : null,
            });
        }

        // Later writes change a run's name, kind, parent, model, status, duration and error: its
        // earlier events keep what they recorded, and an update without a new status is run.updated.
        var changed = runs[4];
        await WriteAndRecordAsync(new RunWrite { Id = changed, Name = "renamed", Kind = RunKind.Tool, ParentId = other, Model = "claude" });
        await WriteAndRecordAsync(new RunWrite { Id = changed, Status = RunStatus.Failed, EndedAt = Start.AddHours(2), Error = new RunError { Message = "later \"failure\"" } });
        await WriteAndRecordAsync(new RunWrite { Id = runs[0], Status = RunStatus.Succeeded, EndedAt = Start.AddHours(3), ParentId = parent });
        expected.Select(e => e.Type).ShouldContain(EventTypes.RunUpdated);
        expected.Select(e => e.Type).Distinct().Count().ShouldBe(7);

        // Every run event is packed: no type text, data a BLOB far shorter than its JSON.
        f.Scalar("SELECT count(*) FROM events").ShouldBe(expected.Count);
        f.Scalar("SELECT count(*) FROM events WHERE typeof(data) = 'blob' AND type = ''").ShouldBe(expected.Count);
        f.Scalar("SELECT max(length(data)) FROM events WHERE run_id = (SELECT run_id FROM events WHERE id = 1)").ShouldBeLessThan(10);

        // The events API, the run detail and the export return what was recorded, in order.
        var all = await f.Store.Reader.ReadEventsAsync(project, 0, null, 1000, default);
        all.Select(e => (e.RunId!.Value, e.Type, e.Data!.Text)).ShouldBe(expected);
        var newest = await f.Store.Reader.ReadEventsAsync(project, -1, null, 5, default);
        newest.Select(e => e.Data!.Text).ShouldBe(expected.TakeLast(5).Select(e => e.Data));
        var detail = await f.Store.Reader.GetRunAsync(project, changed, default);
        detail!.Events.Select(e => (e.Type, e.Data!.Text)).ShouldBe(expected.Where(e => e.Run == changed).Select(e => (e.Type, e.Data)));
        detail.Events[0].Data!.Text.ShouldNotContain("renamed");
        var exported = await f.Store.Transfer.ExportEventsAsync("p", 0, 1000, default);
        exported.Select(e => (e.RunId!.Value, e.Type, e.Data!)).ShouldBe(expected);

        // Filters see the type and the data as returned.
        foreach (var type in expected.Select(e => e.Type).Distinct())
        {
            var ofType = await f.Store.Reader.ReadEventsAsync(project, 0, FilterParser.Parse("type:" + type, FilterTarget.Events), 1000, default);
            ofType.Select(e => e.Data!.Text).ShouldBe(expected.Where(e => e.Type == type).Select(e => e.Data));
        }

        (await f.Store.Reader.ReadEventsAsync(project, 0, FilterParser.Parse("type:run.*", FilterTarget.Events), 1000, default)).Count.ShouldBe(expected.Count);
        (await f.Store.Reader.ReadEventsAsync(project, 0, FilterParser.Parse("-type:run.completed", FilterTarget.Events), 1000, default)).Count
            .ShouldBe(expected.Count(e => e.Type != EventTypes.RunCompleted));
        var byParent = await f.Store.Reader.ReadEventsAsync(project, 0, FilterParser.Parse($"\"\\\"parentId\\\":\\\"{other:D}\\\"\"", FilterTarget.Events), 1000, default);
        byParent.Select(e => e.Data!.Text).ShouldBe(expected.Where(e => e.Data.Contains($"\"parentId\":\"{other:D}\"", StringComparison.Ordinal)).Select(e => e.Data));
        byParent.Count.ShouldBe(2);
        var byError = await f.Store.Reader.ReadEventsAsync(project, 0, FilterParser.Parse("\"BOOM \\\\u0022QUOTED\"", FilterTarget.Events), 1000, default);
        byError.Count.ShouldBe(expected.Count(e => e.Data.Contains("boom \\u0022quoted", StringComparison.Ordinal)));
        byError.Count.ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task ClientEvents_WithTheLedgersTypeNames_AreKeptAsSentAndFilteredAlongside()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = (await f.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;
        var runId = Guid.CreateVersion7();
        await f.WriteAsync(project, [new RunWrite { Id = runId, Name = "plan", Kind = RunKind.Step, StartedAt = Start, EndedAt = Start.AddSeconds(2) }]);
        var ledgers = (await f.Store.Reader.ReadEventsAsync(project, 0, null, 10, default)).Single();
        string[] sent = [ledgers.Data!.Text, """{"kind":"step"}""", "[1]"];
        await f.WriteAsync(project, events: [.. sent.Select((data, i) => new EventWrite
        {
            Type = i == 2 ? EventTypes.RunUpdated : EventTypes.RunCompleted,
            Time = Start,
            RunId = runId,
            Name = "plan",
            Data = RawJson.Parse(data),
            IdempotencyKey = i == 1 ? "k" : null,
        })]);

        // Only the ledger's own event is packed; the client's keep their type and text.
        f.Scalar("SELECT count(*) FROM events WHERE typeof(data) = 'blob'").ShouldBe(1);
        f.Scalar("SELECT count(*) FROM events WHERE type = 'run.completed' AND typeof(data) = 'text'").ShouldBe(2);
        var events = await f.Store.Reader.ReadEventsAsync(project, 0, null, 10, default);
        events.Select(e => (e.Type, e.Data!.Text)).ShouldBe([
            (EventTypes.RunCompleted, ledgers.Data.Text), (EventTypes.RunCompleted, sent[0]), (EventTypes.RunCompleted, sent[1]), (EventTypes.RunUpdated, sent[2])]);
        (await f.Store.Reader.ReadEventsAsync(project, 0, FilterParser.Parse("type:run.completed", FilterTarget.Events), 10, default)).Count.ShouldBe(3);
        (await f.Store.Reader.ReadEventsAsync(project, 0, FilterParser.Parse("type:run.updated", FilterTarget.Events), 10, default)).Single().Data!.Text.ShouldBe("[1]");
    }

    [Fact]
    public async Task RunEvents_RunRowDeleted_StillReadBackAndCopyToAnotherLedgerPacked()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = (await f.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;
        var ids = Enumerable.Range(0, 5).Select(_ => Guid.CreateVersion7()).ToList();
        await f.WriteAsync(project, [.. ids.Select((id, i) => new RunWrite
        {
            Id = id,
            Name = "n" + i.ToString(CultureInfo.InvariantCulture),
            ParentId = i == 0 ? null : ids[0],
            StartedAt = Start,
            EndedAt = Start.AddSeconds(i + 1),
            Error = i == 3 ? new RunError { Message = "no \"luck\"" } : null,
        })]);
        var before = await f.Store.Reader.ReadEventsAsync(project, 0, null, 100, default);
        await using (var connection = new SqliteConnection($"Data Source={f.DatabasePath};Pooling=False"))
        {
            connection.Open();
            using var delete = connection.CreateCommand();
            delete.CommandText = "DELETE FROM runs;";
            delete.ExecuteNonQuery();
        }

        var after = await f.Store.Reader.ReadEventsAsync(project, 0, null, 100, default);
        after.Select(e => (e.Type, e.RunId, e.Name, e.Data!.Text)).ShouldBe(before.Select(e => (e.Type, e.RunId, e.Name, e.Data!.Text)));

        // A copy (export, import) keeps them packed and reads back the same.
        await using var target = await StoreFixture.OpenAsync();
        await LedgerCopier.CopyAsync(new StoreTransferSource(f.Store.Transfer, pageSize: 2), target.Store.Transfer, null, default);
        target.Scalar("SELECT count(*) FROM events WHERE typeof(data) = 'blob' AND type = ''").ShouldBe(before.Count);
        var copied = await target.Store.Reader.ReadEventsAsync((await target.Store.Admin.FindProjectAsync("p", default))!.Id, 0, null, 100, default);
        copied.Select(e => (e.Id, e.Type, e.RunId, e.Name, e.Data!.Text)).ShouldBe(before.Select(e => (e.Id, e.Type, e.RunId, e.Name, e.Data!.Text)));
    }

    [Fact]
    public void Pack_RandomValues_ReadBackAsTheFullData()
    {
        var random = new Random(12);
        string[] texts = ["", "a", "gpt-4o", "\"q\" \\ / \n \u0000 \u2028 <>&'+", "ünïcödé 日本 😀", new string('é', 200)];
        var output = new ArrayBufferWriter<byte>();
        for (var i = 0; i < 2000; i++)
        {
            long? Number() => random.Next(4) switch
            {
                0 => null,
                1 => random.NextInt64(0, 1000),
                2 => random.NextInt64(long.MinValue, long.MaxValue),
                _ => random.Next(2) == 0 ? long.MaxValue : long.MinValue,
            };

            string? Text() => random.Next(3) == 0 ? null : texts[random.Next(texts.Length)];
            var values = new RunEventValues(
                WireNames.Kinds[random.Next(WireNames.Kinds.Count)],
                WireNames.Statuses[random.Next(WireNames.Statuses.Count)],
                Text(),
                random.Next(2) == 0 ? null : Guid.NewGuid(),
                Number(),
                Number(),
                Number() ?? 0,
                Text());
            var type = random.Next(3) == 0 ? EventTypes.RunUpdated : EventTypes.ForStatus(WireNames.ParseStatus(values.Status));
            var runId = Guid.CreateVersion7();
            var name = Text();

            output.ResetWrittenCount();
            SqliteRunEvents.TryPack(type, values, output).ShouldBeTrue();
            var (readType, data) = SqliteRunEvents.Read(output.WrittenSpan, runId, name);
            readType.ShouldBe(type);
            data.ShouldBe(RunMerge.RunEventData(runId, name, values));
            SqliteRunEvents.Unpack(output.WrittenSpan).Values.ShouldBe(values);

            // The JSON form (what another store exports) packs to a form that reads back the same
            // (the same bytes, unless milliseconds as a double lose microseconds past 2^53).
            var again = SqliteRunEvents.Pack(type, data, runId, name).ShouldNotBeNull();
            SqliteRunEvents.Read(again, runId, name).ShouldBe((type, data));
            if (values.DurationUs is null or > -1_000_000_000_000 and < 1_000_000_000_000)
            {
                again.ShouldBe(output.WrittenSpan.ToArray());
            }
        }
    }

    [Fact]
    public void Pack_ValuesThatDoNotFit_AreLeftAsJson()
    {
        var output = new ArrayBufferWriter<byte>();
        var values = new RunEventValues("step", "succeeded", null, null, 5, null, 0, null);
        SqliteRunEvents.TryPack(EventTypes.RunFailed, values, output).ShouldBeFalse();
        SqliteRunEvents.TryPack(EventTypes.RunCompleted, values with { Kind = "robot" }, output).ShouldBeFalse();
        SqliteRunEvents.TryPack(EventTypes.RunCompleted, values with { Error = "lone \uD800 surrogate" }, output).ShouldBeFalse();
        SqliteRunEvents.TryPack(EventTypes.RunCompleted, values with { Model = "\uDC00" }, output).ShouldBeFalse();
        output.WrittenCount.ShouldBe(0);

        var runId = Guid.CreateVersion7();
        var data = RunMerge.RunEventData(runId, "n", values);
        SqliteRunEvents.Pack(EventTypes.RunCompleted, data, runId, "n").ShouldNotBeNull();
        SqliteRunEvents.Pack(EventTypes.RunCompleted, data, runId, "other").ShouldBeNull();
        SqliteRunEvents.Pack(EventTypes.RunCompleted, data, Guid.CreateVersion7(), "n").ShouldBeNull();
        SqliteRunEvents.Pack(EventTypes.RunCompleted, data.Replace("{", "{ ", StringComparison.Ordinal), runId, "n").ShouldBeNull();
        SqliteRunEvents.Pack(EventTypes.RunCompleted, data.Replace("}", ",\"extra\":1}", StringComparison.Ordinal), runId, "n").ShouldBeNull();
        SqliteRunEvents.Pack(EventTypes.RunCompleted, data.Replace("5E-3", "0.005", StringComparison.Ordinal).Replace("0.005", "0.0050", StringComparison.Ordinal), runId, "n").ShouldBeNull();
        SqliteRunEvents.Pack(EventTypes.RunCompleted, "[1]", runId, "n").ShouldBeNull();
        SqliteRunEvents.Pack(EventTypes.RunCompleted, "{\"id\":", runId, "n").ShouldBeNull();
    }

    [Theory]
    [InlineData("")]
    [InlineData("01")]
    [InlineData("2100")]          // version bits set
    [InlineData("0700")]          // no such status
    [InlineData("0108")]          // model length missing
    [InlineData("010805616263")]  // model shorter than its length
    [InlineData("0110AABB")]      // parent shorter than 16 bytes
    [InlineData("012080")]        // duration varint cut short
    [InlineData("010000")]        // bytes left without an error flag
    [InlineData("1100FF")]        // error that is not UTF-8
    public void Unpack_DamagedBytes_ThrowsInvalidData(string hex)
    {
        Should.Throw<InvalidDataException>(() => SqliteRunEvents.Unpack(Convert.FromHexString(hex)));
    }

    [Fact]
    public async Task Migration_LedgerOfVersion11_PacksItsRunEventsAndReadsBackTheSame()
    {
        var directory = Path.Combine(Path.GetTempPath(), "runledger-store-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "runledger.db");
        var us = StorageUnits.ToMicros(Start);
        var run = Guid.CreateVersion7();
        var parent = Guid.CreateVersion7();
        var values = new RunEventValues("llm", "failed", "gpt-4o", parent, 1_234_567, 2_002_400, 1127, "bad \"input\" <x>\n");
        var full = RunMerge.RunEventData(run, "plan <v11>", values);
        var tail = TailOf(run, "plan <v11>", values);
        var unnamedTail = TailOf(run, null, values with { Status = "succeeded", Error = null, ParentId = null });
        var oddTail = TailOf(run, "plan <v11>", values with { Kind = "robot" });
        var spaced = full.Replace(",\"kind\"", ", \"kind\"", StringComparison.Ordinal);
        (string Type, string? Name, string Data, string? Key)[] rows =
        [
            (EventTypes.RunFailed, "plan <v11>", tail, null),                    // schemas 9-11: a tail
            (EventTypes.RunCompleted, null, unnamedTail, null),                  // a tail without a name
            (EventTypes.RunUpdated, "plan <v11>", tail, null),                   // run.updated keeps its status
            (EventTypes.RunFailed, "plan <v11>", full, null),                    // before schema 9: the full data
            (EventTypes.RunFailed, "plan <v11>", oddTail, null),                 // a tail that does not pack: written out whole
            (EventTypes.RunCompleted, "plan <v11>", full, null),                 // type and status disagree: kept
            (EventTypes.RunFailed, "plan <v11>", spaced, null),                  // not the ledger's bytes: kept
            (EventTypes.RunFailed, "plan <v11>", full, "key"),                   // a client's, with a key: kept
            ("note", "plan <v11>", "{\"n\":1}", null),                           // a client's: kept
        ];
        var expected = rows.Select(r => (r.Type, RunEventTail.Restore(r.Data, run, r.Name)!)).ToList();
        await using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await connection.OpenAsync();
            await SqliteMigrator.MigrateAsync(connection, 11, default);
            using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO projects (id, name, created_at) VALUES (1, 'p', 0);";
            command.ExecuteNonQuery();
            command.CommandText = "INSERT INTO events (project_id, type, time, run_id, name, data, idempotency_key) VALUES (1, @type, @us, @run, @name, @data, @key);";
            var type = command.Parameters.AddWithValue("@type", "");
            command.Parameters.AddWithValue("@us", us);
            command.Parameters.AddWithValue("@run", StorageUnits.ToBytes(run));
            var name = command.Parameters.AddWithValue("@name", "");
            var data = command.Parameters.AddWithValue("@data", "");
            var key = command.Parameters.AddWithValue("@key", "");
            foreach (var row in rows)
            {
                type.Value = row.Type;
                name.Value = (object?)row.Name ?? DBNull.Value;
                data.Value = row.Data;
                key.Value = (object?)row.Key ?? DBNull.Value;
                command.ExecuteNonQuery();
            }
        }

        await using var f = await StoreFixture.OpenAsync(directory: directory);
        f.Scalar("SELECT max(version) FROM schema_version").ShouldBe(SqliteMigrator.Migrations.Max(m => m.Version));
        f.Scalar("SELECT count(*) FROM events WHERE typeof(data) = 'blob' AND type = ''").ShouldBe(4);
        f.Scalar("SELECT count(*) FROM events WHERE data GLOB ',*'").ShouldBe(0);
        f.Scalar("SELECT count(*) FROM pragma_integrity_check WHERE integrity_check <> 'ok'").ShouldBe(0);
        var events = await f.Store.Reader.ReadEventsAsync(1, 0, null, 100, default);
        events.Select(e => (e.Type, e.Data!.Text)).ShouldBe(expected);
        var exported = await f.Store.Transfer.ExportEventsAsync("p", 0, 100, default);
        exported.Select(e => (e.Type, e.Data!)).ShouldBe(expected);
        (await f.Store.Reader.ReadEventsAsync(1, 0, FilterParser.Parse("type:run.failed \"bad \\\\u0022input\"", FilterTarget.Events), 100, default)).Count.ShouldBe(5);
    }

    /// <summary>A run event's data as the SQLite store of schemas 9 to 11 kept it: without id and name.</summary>
    private static string TailOf(Guid run, string? name, RunEventValues values)
    {
        var full = RunMerge.RunEventData(run, name, values);
        var prefix = RunEventTail.Restore(",", run, name)!;
        return full[(prefix.Length - 1)..];
    }

    private static RunRow ReadRow(StoreFixture f, Guid id)
    {
        using var connection = new SqliteConnection($"Data Source={f.DatabasePath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {SqliteRows.RunColumnsOf("r")} FROM {SqliteRows.RunsFrom("r")} WHERE r.id = @id;";
        command.Parameters.AddWithValue("@id", StorageUnits.ToBytes(id));
        using var reader = command.ExecuteReader();
        reader.Read().ShouldBeTrue();
        return SqliteRows.ReadRun(reader);
    }
}
