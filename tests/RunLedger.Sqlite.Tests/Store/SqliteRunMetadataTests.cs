using Microsoft.Data.Sqlite;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Query;
using RunLedger.Core.Storage;
using RunLedger.Sqlite.Query;

namespace RunLedger.Sqlite.Tests.Store;

/// <summary>
/// Schema 12: runs refer to their metadata by key; each distinct metadata object of a project is
/// one entry of run_metadata with the count of runs that refer to it.
/// </summary>
public sealed class SqliteRunMetadataTests
{
    private static readonly DateTimeOffset Day = StoreFixture.Day;

    private const string Api = "{\"repository\":\"acme/api\",\"persona\":\"release-bot\"}";
    private const string Web = "{\"repository\":\"acme/web\",\"persona\":\"triage\"}";
    private const string Seven = "{\"repository\":7}";
    private const string Bot = "{\"persona\":\"release-bot\"}";

    /// <summary>The filters and which of <see cref="Runs"/> (by index) each matches.</summary>
    public static TheoryData<string> Filters() =>
    [
        "metadata.repository:\"acme/api\"",
        "metadata.repository:acme/*",
        "metadata.persona:\"release-bot\" status:failed",
        "-metadata.repository:\"acme/web\"",
        "metadata.repository:7",
        "metadata.repository>6",
        "metadata.missing:x",
        "-metadata.missing:x",
        "metadata.repository:\"acme/api\" OR metadata.persona:triage",
    ];

    private static bool Matches(string filter, int i) => filter switch
    {
        "metadata.repository:\"acme/api\"" => i is >= 10 and < 30,
        "metadata.repository:acme/*" => i is >= 10 and < 50,
        "metadata.persona:\"release-bot\" status:failed" => (i is >= 10 and < 30 || i >= 60) && i % 7 == 0,
        "-metadata.repository:\"acme/web\"" => i is < 30 or >= 50,
        "metadata.repository:7" or "metadata.repository>6" => i is >= 50 and < 60,
        "metadata.missing:x" => false,
        "-metadata.missing:x" => true,
        "metadata.repository:\"acme/api\" OR metadata.persona:triage" => i is >= 10 and < 50,
        _ => throw new ArgumentException(filter),
    };

    [Theory]
    [MemberData(nameof(Filters))]
    public async Task Filter_FindsTheRunsWhoseMetadataMatch_ListedOrReadInTheStatement(string filter)
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var runs = Runs();
        await f.WriteAsync(project.Id, runs);
        var expected = Enumerable.Range(0, runs.Count).Where(i => Matches(filter, i)).Reverse().Select(i => runs[i].Id).ToList();

        (await PageIdsAsync(f, filter)).ShouldBe(expected, "through the reader");
        Ids(f, project.Id, filter, resolve: false).ShouldBe(expected, "entries read in the statement");
        Ids(f, project.Id, filter, resolve: true).ShouldBe(expected, "entries listed before the statement");
    }

    [Fact]
    public async Task Metadata_AreStoredOncePerDistinctObject_AcrossRestarts_WithExactCounts()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        await f.WriteAsync(project.Id, Runs());
        f.Scalar("SELECT count(*) FROM run_metadata").ShouldBe(4);
        Counts(f).ShouldBe([(Api, 20), (Web, 20), (Seven, 10), (Bot, 10)], ignoreOrder: true);

        // After a restart the writer knows no key: it finds them in the file.
        await f.ReopenAsync();
        await f.WriteAsync(project.Id, Runs());
        f.Scalar("SELECT count(*) FROM run_metadata").ShouldBe(4);
        Counts(f).ShouldBe([(Api, 40), (Web, 40), (Seven, 20), (Bot, 20)], ignoreOrder: true);

        // Another project has entries of its own.
        var other = await f.Store.Admin.GetOrCreateProjectAsync("q", default);
        await f.WriteAsync(other.Id, Runs().Take(20).ToList());
        f.Scalar("SELECT count(*) FROM run_metadata").ShouldBe(5);
        f.Scalar("SELECT count(*) FROM run_metadata WHERE project_id = " + other.Id).ShouldBe(1);
        CountsAreExact(f);
        f.Scalar("SELECT count(*) FROM runs WHERE metadata_key IS NULL").ShouldBe(30);
    }

    [Fact]
    public async Task Update_MovesTheRunToItsNewEntry_AndAnEntryNoRunRefersToGoes()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var only = Run(0, "{\"trace\":\"t-1\"}");
        var second = Run(1, Web);
        await f.WriteAsync(project.Id, [only, second, Run(2, Web)]);
        Counts(f).ShouldBe([("{\"trace\":\"t-1\"}", 1), (Web, 2)], ignoreOrder: true);

        // Same metadata again (a completion): nothing moves.
        await f.WriteAsync(project.Id, [new RunWrite { Id = second.Id, Status = RunStatus.Succeeded, EndedAt = Day.AddHours(2), Metadata = new RawJson(Web) }]);
        Counts(f).ShouldBe([("{\"trace\":\"t-1\"}", 1), (Web, 2)], ignoreOrder: true);

        // New metadata for the only run of an entry: the entry goes, the new one counts it.
        await f.WriteAsync(project.Id, [new RunWrite { Id = only.Id, Metadata = new RawJson(Api) }]);
        Counts(f).ShouldBe([(Api, 1), (Web, 2)], ignoreOrder: true);
        (await f.Store.Reader.GetRunAsync(project.Id, only.Id, default))!.Run.Metadata!.Text.ShouldBe(Api);

        // Moving to an entry that exists, in one batch with a new run of the old one.
        await f.WriteAsync(project.Id, [new RunWrite { Id = second.Id, Metadata = new RawJson(Api) }, Run(3, Web)]);
        Counts(f).ShouldBe([(Api, 2), (Web, 2)], ignoreOrder: true);
        CountsAreExact(f);
        (await PageIdsAsync(f, "metadata.repository:\"acme/api\"")).ShouldBe([second.Id, only.Id]);
    }

    [Fact]
    public async Task FailedBatch_TakesTheEntriesItMadeWithIt_AndTheNextBatchMakesThemAgain()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        await f.WriteAsync(project.Id, [Run(0, Web)]);

        // A run named "boom" fails its batch when its event is written, after its metadata entry
        // was made: the batch rolls back to its savepoint, taking the entry with it.
        Execute(f, "CREATE TRIGGER fail_boom BEFORE INSERT ON events WHEN NEW.name = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END;");
        const string fresh = "{\"repository\":\"acme/new\"}";
        WriteBatch Batch(RunWrite run) => new() { ProjectId = project.Id, Source = "test", ReceivedAt = Day.AddHours(12), Runs = [run] };
        var failing = Run(1, fresh) with { Name = "boom", Parameters = new RawJson("{\"t\":1}"), Tags = ["new"] };
        var next = Run(2, fresh) with { Parameters = new RawJson("{\"t\":1}"), Tags = ["new"] };
        var results = await f.Store.Writer.WriteAsync([Batch(failing), Batch(next)], default);

        results[0].Error.ShouldNotBeNull();
        results[1].Error.ShouldBeNull();
        CountsAreExact(f);
        Counts(f).ShouldBe([(Web, 1), (fresh, 1)], ignoreOrder: true);
        (await f.Store.Reader.GetRunAsync(project.Id, next.Id, default))!.Run.Metadata!.Text.ShouldBe(fresh);
        (await f.Store.Reader.GetRunAsync(project.Id, failing.Id, default)).ShouldBeNull();
    }

    [Fact]
    public async Task DeletedRuns_AreNoLongerCounted_AndTheirEntriesGo()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        await f.WriteAsync(project.Id, Runs());
        using (var connection = new SqliteConnection($"Data Source={f.DatabasePath};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM runs WHERE started_at < @until;";
            command.Parameters.AddWithValue("@until", StorageUnits.ToMicros(Day.AddHours(1).AddMinutes(3 * 20)));
            command.ExecuteNonQuery().ShouldBe(20);
        }

        Counts(f).ShouldBe([(Api, 10), (Web, 20), (Seven, 10), (Bot, 10)], ignoreOrder: true);

        // The writer of the open store learns of the other connection's change before it writes.
        await f.WriteAsync(project.Id, [Run(100, "{\"trace\":\"t-2\"}")]);
        await f.WriteAsync(project.Id, [Run(101, Api)]);
        Counts(f).ShouldBe([(Api, 11), (Web, 20), (Seven, 10), (Bot, 10), ("{\"trace\":\"t-2\"}", 1)], ignoreOrder: true);
        CountsAreExact(f);
    }

    [Fact]
    public async Task Plan_FewMatchingRunsAreFoundThroughTheMetadataIndex_ManyByWalkingTheTimeIndex()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var runs = Enumerable.Range(0, 3000)
            .Select(i => Run(i, i % 300 == 7 ? "{\"repository\":\"rare\"}" : "{\"repository\":\"common\",\"n\":" + (i % 5) + "}"))
            .ToList();
        for (var i = 0; i < runs.Count; i += 500)
        {
            await f.WriteAsync(project.Id, runs.Skip(i).Take(500).ToList());
        }

        foreach (var analyzed in new[] { false, true })
        {
            if (analyzed)
            {
                Execute(f, "ANALYZE;");
            }

            var rare = Plan(f, project.Id, "metadata.repository:rare");
            rare.ShouldContain("ix_runs_metadata");
            var common = Plan(f, project.Id, "metadata.repository:common");
            common.ShouldNotContain("ix_runs_metadata");
            common.ShouldContain("ix_runs_started");
            Plan(f, project.Id, "metadata.repository:common status:failed").ShouldNotContain("ix_runs_metadata");
        }

        (await PageIdsAsync(f, "metadata.repository:rare")).Count.ShouldBe(10);
        (await PageIdsAsync(f, "metadata.repository:common metadata.n:3")).Count.ShouldBe(runs.Count(r => r.Metadata!.Text.EndsWith(":3}", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ProjectWithMoreEntriesThanAreListed_ChecksEachRunsEntry_AndStillMatchesExactly()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var count = SqliteMetadataMatches.MaxListedEntries + 20;
        var runs = Enumerable.Range(0, count)
            .Select(i => Run(i, "{\"repository\":\"" + (i % 3 == 0 ? "acme/api" : "acme/web") + "\",\"trace\":\"t-" + i + "\"}"))
            .ToList();
        for (var i = 0; i < runs.Count; i += 2000)
        {
            await f.WriteAsync(project.Id, runs.Skip(i).Take(2000).ToList());
        }

        f.Scalar("SELECT count(*) FROM run_metadata").ShouldBe(count);
        Plan(f, project.Id, "metadata.trace:\"t-17\"").ShouldNotContain("ix_runs_metadata");
        (await PageIdsAsync(f, "metadata.trace:\"t-17\"")).ShouldBe([runs[17].Id]);
        var page = await f.Store.Reader.QueryRunsAsync(project.Id, new RunQuery(FilterParser.Parse("metadata.repository:\"acme/api\"", FilterTarget.Runs), 50, null), default);
        page.Items.Select(r => r.Id).ShouldBe(Enumerable.Range(0, count).Where(i => i % 3 == 0).Reverse().Take(50).Select(i => runs[i].Id).ToList());
    }

    [Fact]
    public async Task Migration_LedgerOfVersion11_MovesMetadataToEntries_ByteForByte_AndDropsThePerKeyIndexes()
    {
        var directory = Path.Combine(Path.GetTempPath(), "runledger-store-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "runledger.db");
        string[] texts =
        [
            Api,
            "{\"note\":\"caf\\u00e9 \\ud83d\\ude00 \\ud800 \\\"quoted\\\" \\/ tab\\t\",\"n\":1.50}",
            "{ \"spaced\" : true }",
            "{\"repository\":\"acme/api\",\"persona\":\"release-bot\"} ",
        ];
        var ids = Enumerable.Range(0, 12).Select(_ => Guid.CreateVersion7()).ToList();
        var us = StorageUnits.ToMicros(Day.AddHours(1));
        await using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await connection.OpenAsync();
            await SqliteMigrator.MigrateAsync(connection, 11, default);
            await using var command = connection.CreateCommand();
            command.CommandText =
                "INSERT INTO projects (id, name, created_at) VALUES (1, 'p', 0), (2, 'q', 0);" +
                "CREATE INDEX \"ix_runs_meta_repository_0a1b2c3d\" ON runs(project_id, json_extract(metadata, '$.\"repository\"'), started_at);";
            await command.ExecuteNonQueryAsync();
            for (var i = 0; i < ids.Count; i++)
            {
                command.CommandText =
                    "INSERT INTO runs (project_id, id, kind, name, status, started_at, metadata, source, created_at, updated_at) " +
                    "VALUES (@p, @id, 'llm', 'step', 'succeeded', @us, @metadata, 'api', 0, 0);";
                command.Parameters.Clear();
                command.Parameters.AddWithValue("@p", i < 10 ? 1 : 2);
                command.Parameters.AddWithValue("@id", StorageUnits.ToBytes(ids[i]));
                command.Parameters.AddWithValue("@us", us + i);
                command.Parameters.AddWithValue("@metadata", i == 9 ? DBNull.Value : texts[i % texts.Length]);
                await command.ExecuteNonQueryAsync();
            }
        }

        await using var f = await StoreFixture.OpenAsync(directory: directory);
        f.Scalar("SELECT max(version) FROM schema_version").ShouldBe(SqliteMigrator.Migrations.Max(m => m.Version));
        f.Scalar("SELECT count(*) FROM sqlite_master WHERE substr(name, 1, 13) = 'ix_runs_meta_'").ShouldBe(0);
        f.Scalar("SELECT count(*) FROM pragma_table_info('runs') WHERE name = 'metadata'").ShouldBe(0);
        f.Scalar("SELECT count(*) FROM pragma_integrity_check WHERE integrity_check <> 'ok'").ShouldBe(0);
        f.Scalar("SELECT count(*) FROM run_metadata WHERE project_id = 1").ShouldBe(4);
        f.Scalar("SELECT count(*) FROM run_metadata WHERE project_id = 2").ShouldBe(2);
        CountsAreExact(f);
        for (var i = 0; i < ids.Count; i++)
        {
            var run = (await f.Store.Reader.GetRunAsync(i < 10 ? 1 : 2, ids[i], default))!.Run;
            if (i == 9)
            {
                run.Metadata.ShouldBeNull();
            }
            else
            {
                run.Metadata!.Text.ShouldBe(texts[i % texts.Length], $"run {i}");
            }
        }

        // The migration's hash is the writer's: the same text finds its entry.
        await f.WriteAsync(1, [Run(50, texts[1]), Run(51, texts[3])]);
        f.Scalar("SELECT count(*) FROM run_metadata WHERE project_id = 1").ShouldBe(4);
        CountsAreExact(f);
        (await PageIdsAsync(f, "metadata.repository:\"acme/api\"")).Count.ShouldBe(6);
    }

    [Fact]
    public async Task IndexedMetadataKeys_IsStillAccepted_AndMakesNoIndex()
    {
        await using var f = await StoreFixture.OpenAsync(options: new SqliteStoreOptions { IndexedMetadataKeys = "repository, persona" });
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        await f.WriteAsync(project.Id, Runs());

        f.Scalar("SELECT count(*) FROM sqlite_master WHERE substr(name, 1, 13) = 'ix_runs_meta_'").ShouldBe(0);
        (await PageIdsAsync(f, "metadata.repository:\"acme/api\"")).Count.ShouldBe(20);
    }

    [Fact]
    public async Task ParametersAndTags_AreStoredOncePerDistinctValue_ReadBackAsSent_AndCountedThroughUpdates()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        const string cold = "{ \"temperature\" : 0.20, \"stop\": [\"\\u00e9\"] }";
        const string warm = "{\"temperature\":0.9}";
        var runs = Enumerable.Range(0, 30).Select(i => Run(i, Api) with
        {
            Parameters = new RawJson(i % 3 == 0 ? warm : cold),
            Tags = i % 2 == 0 ? ["nightly", "caf\u00e9"] : ["adhoc"],
        }).ToList();
        await f.WriteAsync(project.Id, runs);
        f.Scalar("SELECT count(*) FROM run_parameters").ShouldBe(2);
        f.Scalar("SELECT count(*) FROM run_tags").ShouldBe(2);
        f.Scalar("SELECT runs FROM run_parameters WHERE json = '{\"temperature\":0.9}'").ShouldBe(10);
        CountsAreExact(f);

        var first = (await f.Store.Reader.GetRunAsync(project.Id, runs[0].Id, default))!.Run;
        first.Parameters!.Text.ShouldBe(warm);
        first.Tags.ShouldBe(["nightly", "caf\u00e9"]);
        (await f.Store.Reader.GetRunAsync(project.Id, runs[1].Id, default))!.Run.Parameters!.Text.ShouldBe(cold);

        // New parameters and tags for the only runs with the warm parameters: that entry goes.
        await f.WriteAsync(project.Id, [.. runs.Where((_, i) => i % 3 == 0).Select(r => new RunWrite { Id = r.Id, Parameters = new RawJson(cold), Tags = ["adhoc"] })]);
        f.Scalar("SELECT count(*) FROM run_parameters").ShouldBe(1);
        f.Scalar("SELECT runs FROM run_parameters").ShouldBe(30);
        CountsAreExact(f);

        // After a restart the writer finds the values in the file.
        await f.ReopenAsync();
        await f.WriteAsync(project.Id, [Run(40, null) with { Parameters = new RawJson(cold), Tags = ["adhoc"] }]);
        f.Scalar("SELECT count(*) FROM run_parameters").ShouldBe(1);
        f.Scalar("SELECT count(*) FROM run_tags").ShouldBe(2);
        CountsAreExact(f);
    }

    [Theory]
    [InlineData("tag:nightly")]
    [InlineData("-tag:nightly")]
    [InlineData("tag:night*")]
    [InlineData("tag:none")]
    [InlineData("tag:adhoc status:failed")]
    public async Task TagFilter_FindsTheRunsWhoseTagsHoldIt_ListedOrReadInTheStatement(string filter)
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var runs = Enumerable.Range(0, 40).Select(i => Run(i, null) with
        {
            Tags = i % 4 == 0 ? null : i % 4 == 1 ? ["nightly"] : i % 4 == 2 ? ["adhoc", "nightly-2"] : ["adhoc"],
        }).ToList();
        await f.WriteAsync(project.Id, runs);
        bool Expected(int i) => filter switch
        {
            "tag:nightly" => i % 4 == 1,
            "-tag:nightly" => i % 4 != 1,
            "tag:night*" => i % 4 is 1 or 2,
            "tag:none" => false,
            _ => i % 4 is 2 or 3 && i % 7 == 0,
        };
        var expected = Enumerable.Range(0, runs.Count).Where(Expected).Reverse().Select(i => runs[i].Id).ToList();

        (await PageIdsAsync(f, filter)).ShouldBe(expected, "through the reader");
        Ids(f, project.Id, filter, resolve: false).ShouldBe(expected, "entries read in the statement");
        Ids(f, project.Id, filter, resolve: true).ShouldBe(expected, "entries listed before the statement");
    }

    [Fact]
    public async Task Migration_LedgerOfVersion13_MovesParametersAndTagsToEntries_ByteForByte()
    {
        var directory = Path.Combine(Path.GetTempPath(), "runledger-store-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "runledger.db");
        string?[] parameters = ["{\"temperature\":0.2}", "{ \"stop\" : [\"\\ud800\", \"caf\u00e9\"] }", null];
        string?[] tags = ["[\"nightly\"]", null, "[\"a\",\"b\"]", "[\"nightly\"]"];
        var ids = Enumerable.Range(0, 12).Select(_ => Guid.CreateVersion7()).ToList();
        var us = StorageUnits.ToMicros(Day.AddHours(1));
        await using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await connection.OpenAsync();
            await SqliteMigrator.MigrateAsync(connection, 13, default);
            await using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO projects (id, name, created_at) VALUES (1, 'p', 0);";
            await command.ExecuteNonQueryAsync();
            for (var i = 0; i < ids.Count; i++)
            {
                command.CommandText =
                    "INSERT INTO runs (project_id, id, kind, name, status, started_at, parameters, tags, source, created_at, updated_at) " +
                    "VALUES (1, @id, 'llm', 'step', 'succeeded', @us, @parameters, @tags, 'api', 0, 0);";
                command.Parameters.Clear();
                command.Parameters.AddWithValue("@id", StorageUnits.ToBytes(ids[i]));
                command.Parameters.AddWithValue("@us", us + i);
                command.Parameters.AddWithValue("@parameters", (object?)parameters[i % parameters.Length] ?? DBNull.Value);
                command.Parameters.AddWithValue("@tags", (object?)tags[i % tags.Length] ?? DBNull.Value);
                await command.ExecuteNonQueryAsync();
            }
        }

        await using var f = await StoreFixture.OpenAsync(directory: directory);
        f.Scalar("SELECT count(*) FROM pragma_table_info('runs') WHERE name IN ('parameters', 'tags')").ShouldBe(0);
        f.Scalar("SELECT count(*) FROM run_parameters").ShouldBe(2);
        f.Scalar("SELECT count(*) FROM run_tags").ShouldBe(2);
        CountsAreExact(f);
        for (var i = 0; i < ids.Count; i++)
        {
            var run = (await f.Store.Reader.GetRunAsync(1, ids[i], default))!.Run;
            run.Parameters?.Text.ShouldBe(parameters[i % parameters.Length], $"run {i}");
            (run.Tags.Count == 0 ? null : "[" + string.Join(",", run.Tags.Select(t => "\"" + t + "\"")) + "]").ShouldBe(tags[i % tags.Length], $"run {i}");
        }

        (await PageIdsAsync(f, "tag:nightly")).Count.ShouldBe(6);
        await f.WriteAsync(1, [Run(50, null) with { Parameters = new RawJson(parameters[1]!), Tags = ["a", "b"] }]);
        f.Scalar("SELECT count(*) FROM run_parameters").ShouldBe(2);
        f.Scalar("SELECT count(*) FROM run_tags").ShouldBe(2);
        CountsAreExact(f);
    }

    [Theory]
    [InlineData("repo\"sitory", "may only hold letters")]
    [InlineData("a b", "may only hold letters")]
    [InlineData("k0,k1,k2,k3,k4,k5,k6,k7,k8,k9,k10,k11,k12,k13,k14,k15,k16", "at most 16")]
    public void Options_BadKeys_AreRefusedWithTheReason(string keys, string reason)
    {
        var errors = new SqliteStoreOptions { IndexedMetadataKeys = keys }.Validate().ToList();

        errors.ShouldHaveSingleItem().ShouldContain(reason);
        errors[0].ShouldContain("IndexedMetadataKeys");
    }

    /// <summary>70 runs, one every 3 minutes: ten without metadata, then acme/api, acme/web, a number, a persona alone.</summary>
    private static List<RunWrite> Runs() =>
    [
        .. Enumerable.Range(0, 70).Select(i => Run(i, i < 10 ? null : i < 30 ? Api : i < 50 ? Web : i < 60 ? Seven : Bot)),
    ];

    private static RunWrite Run(int i, string? metadata) => new()
    {
        Id = Guid.CreateVersion7(),
        Kind = RunKind.Llm,
        Name = "step",
        Model = "gpt-4o",
        Status = i % 7 == 0 ? RunStatus.Failed : RunStatus.Succeeded,
        StartedAt = Day.AddHours(1).AddMinutes(3 * i),
        EndedAt = Day.AddHours(1).AddMinutes(3 * i).AddSeconds(2),
        Metadata = metadata is null ? null : new RawJson(metadata),
    };

    private static List<(string Json, long Runs)> Counts(StoreFixture f)
    {
        using var connection = new SqliteConnection($"Data Source={f.DatabasePath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT json, runs FROM run_metadata;";
        using var reader = command.ExecuteReader();
        var counts = new List<(string, long)>();
        while (reader.Read())
        {
            counts.Add((reader.GetString(0), reader.GetInt64(1)));
        }

        return counts;
    }

    /// <summary>Every entry's count is the number of runs that refer to it, none is 0, and every run's key is an entry of its project (metadata, parameters, tags).</summary>
    private static void CountsAreExact(StoreFixture f)
    {
        foreach (var (table, column) in new[] { ("run_metadata", "metadata_key"), ("run_parameters", "parameters_key"), ("run_tags", "tags_key") })
        {
            f.Scalar($"SELECT count(*) FROM {table} m WHERE m.runs <> (SELECT count(*) FROM runs r WHERE r.{column} = m.key)").ShouldBe(0, table);
            f.Scalar($"SELECT count(*) FROM {table} WHERE runs <= 0").ShouldBe(0, table);
            f.Scalar($"SELECT count(*) FROM runs r WHERE r.{column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {table} m WHERE m.key = r.{column} AND m.project_id = r.project_id)").ShouldBe(0, table);
        }
    }

    private static void Execute(StoreFixture f, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={f.DatabasePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static async Task<List<Guid>> PageIdsAsync(StoreFixture f, string filter)
    {
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var ids = new List<Guid>();
        string? cursor = null;
        do
        {
            var page = await f.Store.Reader.QueryRunsAsync(project.Id, new RunQuery(FilterParser.Parse(filter, FilterTarget.Runs), 7, cursor), default);
            ids.AddRange(page.Items.Select(r => r.Id));
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        return ids;
    }

    /// <summary>The compiled filter run as a statement of its own, with the entries listed before it or read in it.</summary>
    private static List<Guid> Ids(StoreFixture f, long projectId, string filter, bool resolve)
    {
        using var connection = new SqliteConnection($"Data Source={f.DatabasePath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = Statement(f, connection, projectId, filter, resolve, "SELECT r.id", limit: 100_000);
        using var reader = command.ExecuteReader();
        var ids = new List<Guid>();
        while (reader.Read())
        {
            ids.Add(StorageUnits.ToGuid((byte[])reader[0]));
        }

        return ids;
    }

    private static string Plan(StoreFixture f, long projectId, string filter)
    {
        using var connection = new SqliteConnection($"Data Source={f.DatabasePath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = Statement(f, connection, projectId, filter, resolve: true, "EXPLAIN QUERY PLAN SELECT r.id");
        using var reader = command.ExecuteReader();
        var plan = new List<string>();
        while (reader.Read())
        {
            plan.Add(reader.GetString(3));
        }

        return string.Join("\n", plan);
    }

    private static SqliteCommand Statement(StoreFixture f, SqliteConnection connection, long projectId, string filter, bool resolve, string select, int limit = 51)
    {
        var matches = new SqliteMetadataMatches(TimeProvider.System);
        var fragment = SqliteFilterCompiler.CompileRuns(
            FilterParser.Parse(filter, FilterTarget.Runs)!,
            DateTimeOffset.UtcNow,
            f.Store.FullTextLayout,
            resolve ? (values, condition, parameters) => matches.Find(connection, projectId, values, condition, parameters) : null);
        var command = connection.CreateCommand();
        command.CommandText = $"{select} FROM runs r WHERE r.project_id = @project AND {fragment.Sql} ORDER BY r.started_at DESC, r.id DESC LIMIT {limit};";
        command.Parameters.AddWithValue("@project", projectId);
        foreach (var (name, value) in fragment.Parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return command;
    }
}
