using System.Globalization;
using Microsoft.Data.Sqlite;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Query;
using RunLedger.Core.Storage;
using RunLedger.Core.Storage.Transfer;

namespace RunLedger.Sqlite.Tests.Store;

/// <summary>Packed run events (schema 12) with odd values, through every read path, the migration and import.</summary>
public sealed class SqliteRunEventEdgeTests
{
    private static readonly DateTimeOffset Start = StoreFixture.Day.AddHours(1);

    /// <summary>What every reader returns for the events of the project, by path.</summary>
    private static async Task<List<(long Id, string Type, string? Data)>> AllPathsAgreeAsync(StoreFixture f, long project, string projectName)
    {
        var all = await f.Store.Reader.ReadEventsAsync(project, 0, null, 10_000, default);
        var newest = await f.Store.Reader.ReadEventsAsync(project, -1, null, 10_000, default);
        newest.Select(e => (e.Id, e.Type, e.Data?.Text)).ShouldBe(all.Select(e => (e.Id, e.Type, e.Data?.Text)));
        var exported = await f.Store.Transfer.ExportEventsAsync(projectName, 0, 10_000, default);
        exported.Select(e => (e.Id, e.Type, e.Data)).ShouldBe(all.Select(e => (e.Id, e.Type, e.Data?.Text)));
        foreach (var run in all.Where(e => e.RunId is not null).Select(e => e.RunId!.Value).Distinct())
        {
            var detail = await f.Store.Reader.GetRunAsync(project, run, default);
            if (detail is not null)
            {
                detail.Events.Select(e => (e.Id, e.Type, e.Data?.Text)).ShouldBe(all.Where(e => e.RunId == run).Select(e => (e.Id, e.Type, e.Data?.Text)));
            }
        }

        // Type filters: each type alone, negated, and as a prefix pattern (range + GLOB).
        foreach (var type in all.Select(e => e.Type).Distinct())
        {
            (await f.Store.Reader.ReadEventsAsync(project, 0, FilterParser.Parse("type:" + type, FilterTarget.Events), 10_000, default))
                .Select(e => e.Id).ShouldBe(all.Where(e => e.Type == type).Select(e => e.Id), "type:" + type);
            (await f.Store.Reader.ReadEventsAsync(project, 0, FilterParser.Parse("-type:" + type, FilterTarget.Events), 10_000, default))
                .Select(e => e.Id).ShouldBe(all.Where(e => e.Type != type).Select(e => e.Id), "-type:" + type);
            var prefix = type[..(type.Length - 2)];
            (await f.Store.Reader.ReadEventsAsync(project, 0, FilterParser.Parse("type:" + prefix + "*", FilterTarget.Events), 10_000, default))
                .Select(e => e.Id).ShouldBe(all.Where(e => e.Type.StartsWith(prefix, StringComparison.Ordinal)).Select(e => e.Id), "type:" + prefix + "*");
        }

        // Free text finds every event by a piece of its data as returned (ASCII pieces: lower() is ASCII-only in SQLite).
        foreach (var e in all.Where(e => e.Data is not null))
        {
            var text = e.Data!.Text;
            var piece = text.Length > 40 ? text.Substring(text.Length - 30, 20) : text;
            if (piece.Any(c => c > 127) || piece.Contains('"', StringComparison.Ordinal) || piece.Contains('\\', StringComparison.Ordinal) || piece.Trim().Length == 0)
            {
                continue;
            }

            var found = await f.Store.Reader.ReadEventsAsync(project, 0, FilterParser.Parse("\"" + piece + "\"", FilterTarget.Events), 10_000, default);
            found.Select(x => x.Id).ShouldContain(e.Id, "free text " + piece);
            found.Select(x => x.Id).ShouldBe(all.Where(x => x.Data is not null && x.Data.Text.Contains(piece, StringComparison.OrdinalIgnoreCase)).Select(x => x.Id), "free text " + piece);
        }

        return [.. all.Select(e => (e.Id, e.Type, e.Data?.Text))];
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

    [Fact]
    public async Task OddValues_EveryReadPathMatchesTheFullJsonOfTheRow()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = (await f.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;
        var parent = Guid.CreateVersion7();
        string?[] texts = [null, "", "\u0000", "nul\u0000in the middle", "astral 😀𝄞", "lone \uD800 high", "lone \uDC00 low", "\uFFFD\uFEFF bom", "\u2028\u2029", "a'b\"c\\d</script>&+", new string('z', 70_000)];
        decimal?[] costs = [null, 0m, 0.1m, 0.000000001m, 0.0000001m, 1e-7m, 123456789.123456789m, -0.5m, 9_000_000_000m, 0.3333333333m];
        var expected = new List<(Guid Run, string Data)>();
        for (var i = 0; i < 40; i++)
        {
            var id = Guid.CreateVersion7();
            var status = Enum.GetValues<RunStatus>()[i % 6];
            var write = new RunWrite
            {
                Id = id,
                ParentId = i % 2 == 0 ? parent : null,
                Kind = Enum.GetValues<RunKind>()[i % 8],
                Name = texts[(i + 3) % texts.Length],
                Status = status,
                Model = texts[i % texts.Length],
                StartedAt = Start.AddSeconds(i),
                EndedAt = status == RunStatus.Running ? null : i % 5 == 0 ? new DateTimeOffset(9999, 12, 31, 23, 59, 59, TimeSpan.Zero) : Start.AddSeconds(i).AddTicks(i * 12_345_67),
                CostUsd = costs[i % costs.Length],
                Usage = i % 3 == 0 ? new Usage { InputTokens = long.MaxValue / 2, OutputTokens = long.MaxValue / 2 } : i % 3 == 1 ? new Usage { InputTokens = 1 } : null,
                Error = texts[(i + 5) % texts.Length] is { } m ? new RunError { Message = m } : null,
            };
            var results = await f.Store.Writer.WriteAsync([new WriteBatch { ProjectId = project, Source = "t", ReceivedAt = StoreFixture.Day.AddHours(12), Runs = [write] }], default);
            if (results[0].Error is not null || results[0].Outcome!.Rejected.Count > 0)
            {
                continue;
            }

            var row = ReadRow(f, id);
            var (_, _, data) = RunMerge.RunEvent(null, row, 0);
            expected.Add((id, data));
        }

        expected.Count.ShouldBe(40);
        var all = await AllPathsAgreeAsync(f, project, "p");
        var byRun = (await f.Store.Reader.ReadEventsAsync(project, 0, null, 10_000, default)).ToDictionary(e => e.RunId!.Value, e => e.Data!.Text);
        foreach (var (run, data) in expected)
        {
            byRun[run].ShouldBe(data);
        }

        all.Count.ShouldBe(expected.Count);
    }

    [Fact]
    public async Task Migration_OddStoredRowsReadTheSameBeforeAndAfter()
    {
        var directory = Path.Combine(Path.GetTempPath(), "runledger-store-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "runledger.db");
        var run = Guid.CreateVersion7();
        var v = new RunEventValues("llm", "succeeded", "gpt\u0000 😀", Guid.CreateVersion7(), 9_007_199_254_740_993, -1, long.MaxValue, null);

        string Tail(string? name, RunEventValues values)
        {
            var full = RunMerge.RunEventData(run, name, values);
            return full[(RunEventTail.Restore(",", run, name)!.Length - 1)..];
        }

        // (type, name column, data, key): what schema-11 ledgers can hold.
        (string Type, string? Name, string? Data, string? Key)[] rows =
        [
            ("run.completed", "n", Tail("n", v), null),
            ("run.completed", "n", Tail("n", v with { DurationUs = 1 }), null),
            ("run.updated", "\uFFFD", Tail("\uFFFD", v with { Status = "failed", Error = "\u0000" }), null),
            ("run.failed", "n", Tail("n", v with { Status = "failed", Error = "x" }), null),             // type agrees
            ("run.completed", "n", Tail("n", v with { Status = "failed", Error = "x" }), null),          // type disagrees with status: kept, restored
            ("run.completed", "n", Tail("n", v with { Kind = "chain" }), null),                          // unknown kind: written out whole
            ("run.completed", "n", Tail("n", v with { Status = "SUCCEEDED" }), null),                    // case differs
            ("run.completed", "n", RunMerge.RunEventData(run, "n", v with { CostNanos = 100_000_000 }), null), // full, schema < 9
            ("run.completed", "n", RunMerge.RunEventData(run, "n", v).Replace("\"status\"", "\"status\"", StringComparison.Ordinal), "idem"),
            ("run.completed", null, RunMerge.RunEventData(run, "n", v), null),                           // name only in data
            ("run.completed", "n", null, null),                                                          // no data
            ("run.completed", "n", "{\"id\":\"" + run.ToString("D") + "\",\"name\":\"n\",\"kind\":\"llm\",\"status\":\"succeeded\",\"costUsd\":1E-9}", null),
            ("run.completed", "n", "{\"id\":\"" + run.ToString("D") + "\",\"name\":\"n\",\"kind\":\"llm\",\"status\":\"succeeded\",\"durationMs\":1e400}", null),
            ("run.completed", "n", "{\"id\":\"" + run.ToString("D") + "\",\"name\":\"n\",\"kind\":\"llm\",\"status\":\"succeeded\",\"model\":\"\\uD800\"}", null),
            ("run.completed", "n", "{\"id\":\"" + run.ToString("D") + "\",\"name\":\"n\",\"kind\":\"llm\",\"status\":\"succeeded\",\"totalTokens\":0}", null),
            ("run.started", "n", "{\"id\":\"" + run.ToString("D") + "\",\"name\":\"n\",\"kind\":\"llm\",\"status\":\"running\",\"parentId\":\"" + Guid.Empty.ToString("D").ToUpperInvariant() + "\"}", null),
            ("note", "n", "{\"n\":1}", null),
        ];

        await using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await connection.OpenAsync();
            await SqliteMigrator.MigrateAsync(connection, 11, default);
            using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO projects (id, name, created_at) VALUES (1, 'p', 0);";
            command.ExecuteNonQuery();
            command.CommandText = "INSERT INTO events (project_id, type, time, run_id, name, data, idempotency_key) VALUES (1, @type, 0, @run, @name, @data, @key);";
            var type = command.Parameters.AddWithValue("@type", "");
            command.Parameters.AddWithValue("@run", StorageUnits.ToBytes(run));
            var name = command.Parameters.AddWithValue("@name", "");
            var data = command.Parameters.AddWithValue("@data", "");
            var key = command.Parameters.AddWithValue("@key", "");
            foreach (var row in rows)
            {
                type.Value = row.Type;
                name.Value = (object?)row.Name ?? DBNull.Value;
                data.Value = (object?)row.Data ?? DBNull.Value;
                key.Value = (object?)row.Key ?? DBNull.Value;
                command.ExecuteNonQuery();
            }
        }

        // What the code of schema 11 returned: the type column, a tail restored with the row's id and name.
        var before = rows.Select((r, i) => ((long)i + 1, r.Type, RunEventTail.Restore(r.Data, run, r.Name))).ToList();
        await using var f = await StoreFixture.OpenAsync(directory: directory);
        f.Scalar("SELECT count(*) FROM events WHERE typeof(data) = 'text' AND data GLOB ',*'").ShouldBe(0);
        var after = await AllPathsAgreeAsync(f, 1, "p");
        after.ShouldBe(before);
    }

    [Fact]
    public async Task Import_ForeignShapedRunEvents_ReadBackAsExported()
    {
        await using var f = await StoreFixture.OpenAsync();
        var run = Guid.CreateVersion7();
        var v = new RunEventValues("tool", "failed", "m", null, 1500, 2_002_400, 7, "e\u0000rr 😀");
        var data = RunMerge.RunEventData(run, "n", v);
        string?[] datas =
        [
            data,
            data.Replace("{\"id\"", "{ \"id\"", StringComparison.Ordinal),
            RunMerge.RunEventData(run, null, v),
            null,
            "[1]",
            data.Replace("\"durationMs\":1.5", "\"durationMs\":1.50", StringComparison.Ordinal),
        ];
        var records = new List<TransferRecord> { new ProjectRecord("p", 0) };
        var id = 0L;
        foreach (var d in datas)
        {
            foreach (var t in new[] { "run.failed", "run.updated", "run.completed" })
            {
                foreach (var key in new[] { null, "k" + id.ToString(CultureInfo.InvariantCulture) })
                {
                    records.Add(new EventRecord { Id = ++id, Project = "p", Type = t, Time = 1, RunId = run, Name = "n", Data = d, IdempotencyKey = key });
                }
            }
        }

        await f.Store.Transfer.ImportAsync(records, new TransferCheckpoint("src", "pos", true), default);
        var project = (await f.Store.Admin.FindProjectAsync("p", default))!.Id;
        var after = await AllPathsAgreeAsync(f, project, "p");
        after.ShouldBe(records.OfType<EventRecord>().Select(e => (e.Id, e.Type, e.Data)));
        f.Scalar("SELECT count(*) FROM events WHERE typeof(data) = 'blob'").ShouldBeGreaterThan(0);
    }
}

/// <summary>Run events in forms the packing does not take: text a parser refuses, and the older form an older process may still write.</summary>
public sealed class SqliteRunEventOlderFormTests
{
    /// <summary>
    /// A run.* event record without a key whose data text holds a lone surrogate (a .NET string the
    /// transfer layer can hand over) made the whole import throw: Pack parses it with
    /// JsonDocument.Parse(string), which throws ArgumentException, not caught. Before, it was stored.
    /// </summary>
    [Fact]
    public async Task Import_RunEventDataWithLoneSurrogate_DoesNotAbortTheImport()
    {
        await using var f = await StoreFixture.OpenAsync();
        var run = Guid.CreateVersion7();
        var data = "{\"id\":\"" + run.ToString("D") + "\",\"kind\":\"llm\",\"status\":\"succeeded\",\"model\":\"\uD800\"}";
        TransferRecord[] records =
        [
            new ProjectRecord("p", 0),
            new EventRecord { Id = 1, Project = "p", Type = "run.completed", Time = 1, RunId = run, Data = data },
        ];
        await f.Store.Transfer.ImportAsync(records, new TransferCheckpoint("src", "pos", true), default);
        f.Scalar("SELECT count(*) FROM events").ShouldBe(1);
    }

    /// <summary>Direct: SqliteRunEvents.Pack must answer null (keep the JSON) for text it cannot parse, not throw.</summary>
    [Fact]
    public void Pack_LoneSurrogateText_ReturnsNullInsteadOfThrowing()
    {
        var run = Guid.CreateVersion7();
        Should.NotThrow(() => SqliteRunEvents.Pack("run.completed", "{\"id\":\"" + run.ToString("D") + "\",\"x\":\"\uDC00\"}", run, null));
    }

    /// <summary>
    /// A tail (",REST", what the writer of schemas 9-11 stores) that reaches events after the
    /// migration (a server of the previous version still running on the same file: 0012 changes
    /// no schema, so its prepared statements keep working) is now returned as the bare tail: the
    /// readers stopped restoring tails. Before, every reader made the full data again.
    /// </summary>
    [Fact]
    public async Task TailWrittenAfterMigration_IsStillReadAsTheFullData()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = (await f.Store.Admin.GetOrCreateProjectAsync("p", default)).Id;
        var run = Guid.CreateVersion7();
        var full = RunMerge.RunEventData(run, "n", new RunEventValues("step", "succeeded", null, null, 1000, null, 0, null));
        var tail = full[RunEventTail.Restore(",", run, "n")!.Length..];
        tail = "," + tail;
        await using (var connection = new SqliteConnection($"Data Source={f.DatabasePath};Pooling=False"))
        {
            connection.Open();
            using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO events (project_id, type, time, run_id, name, data) VALUES (@p, 'run.completed', 0, @run, 'n', @data);";
            insert.Parameters.AddWithValue("@p", project);
            insert.Parameters.AddWithValue("@run", StorageUnits.ToBytes(run));
            insert.Parameters.AddWithValue("@data", tail);
            insert.ExecuteNonQuery();
        }

        RunEventTail.Restore(tail, run, "n").ShouldBe(full);
        var events = await f.Store.Reader.ReadEventsAsync(project, 0, null, 10, default);

        // The API writes the data raw (RawJson, no validation): the page is no longer JSON at all.
        var page = System.Text.Json.JsonSerializer.Serialize(events, RunLedger.Core.LedgerJson.Options);
        Should.NotThrow(() => System.Text.Json.JsonDocument.Parse(page).Dispose(), page);
        events.Single().Data!.Text.ShouldBe(full);
    }
}

/// <summary>Which type filters must read a packed run event's type from its data (the rest compare the type column alone).</summary>
public sealed class SqliteRunEventTypeFilterTests
{
    [Theory]
    [InlineData("run.completed", false, true)]
    [InlineData("run.updated", false, true)]
    [InlineData("run.timeout", false, true)]
    [InlineData("", false, true)]
    [InlineData("user_feedback", false, false)]
    [InlineData("run.completed.extra", false, false)]
    [InlineData("run.*", true, true)]
    [InlineData("*", true, true)]
    [InlineData("*completed", true, true)]
    [InlineData("r*n.f*d", true, true)]
    [InlineData("run.*x", true, false)]
    [InlineData("user*", true, false)]
    [InlineData("RUN.*", true, false)]
    public void MayNameRunEvents_TellsWhichValuesCanMatchAPackedRow(string value, bool isPattern, bool expected) =>
        SqliteRunEvents.MayNameRunEvents(value, isPattern).ShouldBe(expected);
}
