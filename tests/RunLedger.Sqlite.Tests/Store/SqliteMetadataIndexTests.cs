using Microsoft.Data.Sqlite;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Query;
using RunLedger.Core.Storage;
using RunLedger.Sqlite.Query;

namespace RunLedger.Sqlite.Tests.Store;

public sealed class SqliteMetadataIndexTests
{
    private static readonly DateTimeOffset Day = StoreFixture.Day;

    [Fact]
    public async Task IndexedKey_FilterReadsTheIndex_AndFindsTheSameRunsAsWithout()
    {
        await using var indexed = await StoreFixture.OpenAsync(options: new SqliteStoreOptions { IndexedMetadataKeys = "repository, persona" });
        await using var plain = await StoreFixture.OpenAsync();
        var runs = Runs();
        foreach (var f in new[] { indexed, plain })
        {
            var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
            await f.WriteAsync(project.Id, runs);
        }

        IndexNames(indexed).Count.ShouldBe(2);
        IndexNames(plain).ShouldBeEmpty();
        Plan(indexed, "metadata.repository:\"acme/api\"").ShouldContain(SqliteMetadataIndexes.IndexName("repository"));
        Plan(plain, "metadata.repository:\"acme/api\"").ShouldNotContain("ix_runs_meta_");

        foreach (var filter in new[] { "metadata.repository:\"acme/api\"", "metadata.repository:acme/*", "metadata.persona:\"release-bot\" status:failed", "-metadata.repository:\"acme/web\"", "metadata.repository:7" })
        {
            var expected = await PageIdsAsync(plain, filter);
            (await PageIdsAsync(indexed, filter)).ShouldBe(expected, filter);
        }

        (await PageIdsAsync(indexed, "metadata.repository:\"acme/api\"")).Count.ShouldBe(20);
    }

    [Fact]
    public async Task Reopen_KeysNotSet_KeepsTheIndexes_KeysSet_MakesExactlyThose()
    {
        await using var f = await StoreFixture.OpenAsync(options: new SqliteStoreOptions { IndexedMetadataKeys = "repository,persona" });
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        await f.WriteAsync(project.Id, Runs());

        await f.ReopenAsync(new SqliteStoreOptions());
        IndexNames(f).ShouldBe([SqliteMetadataIndexes.IndexName("persona"), SqliteMetadataIndexes.IndexName("repository")], ignoreOrder: true);

        await f.ReopenAsync(new SqliteStoreOptions { IndexedMetadataKeys = "repository,vendor_domain" });
        IndexNames(f).ShouldBe([SqliteMetadataIndexes.IndexName("repository"), SqliteMetadataIndexes.IndexName("vendor_domain")], ignoreOrder: true);

        await f.ReopenAsync(new SqliteStoreOptions { IndexedMetadataKeys = "" });
        IndexNames(f).ShouldBeEmpty();
        f.Scalar("SELECT count(*) FROM runs").ShouldBe(60);
    }

    [Fact]
    public async Task FilterOnAKeyLongerThanTheOptionAllows_StillWorks()
    {
        var key = new string('k', 70);
        await using var f = await StoreFixture.OpenAsync(options: new SqliteStoreOptions { IndexedMetadataKeys = "repository" });
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var id = Guid.CreateVersion7();
        await f.WriteAsync(project.Id, [new RunWrite { Id = id, Kind = RunKind.Llm, Name = "s", StartedAt = Day.AddHours(1), Metadata = new RawJson("{\"" + key + "\":\"v\"}") }]);

        (await PageIdsAsync(f, "metadata." + key + ":v")).ShouldBe([id]);
    }

    [Fact]
    public async Task Reconcile_LeavesIndexesItDidNotMake_AndOpensWhenOldMetadataIsNotJson()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        await f.WriteAsync(project.Id, [new RunWrite { Id = Guid.CreateVersion7(), Kind = RunKind.Llm, Name = "s", StartedAt = Day.AddHours(1), Metadata = new RawJson("{not json") }]);
        using (var connection = new SqliteConnection($"Data Source={f.DatabasePath};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "CREATE INDEX \"ix_runs_meta_x\"\"; DROP TABLE runs; --\" ON runs(project_id);";
            command.ExecuteNonQuery();
        }

        await f.ReopenAsync(new SqliteStoreOptions { IndexedMetadataKeys = "repository" });

        IndexNames(f).ShouldBe(["ix_runs_meta_x\"; DROP TABLE runs; --"]);
        f.Scalar("SELECT count(*) FROM runs").ShouldBe(1);
        (await PageIdsAsync(f, "name:s")).Count.ShouldBe(1);
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

    [Fact]
    public void IndexName_IsReadableAndTellsKeysApart()
    {
        SqliteMetadataIndexes.IndexName("repository").ShouldStartWith("ix_runs_meta_repository_");
        SqliteMetadataIndexes.IndexName("a.b").ShouldNotBe(SqliteMetadataIndexes.IndexName("a_b"));
    }

    /// <summary>60 runs over three hours: repositories alternate by hour, so a filter on one of them skips whole hours of newer runs.</summary>
    private static List<RunWrite> Runs() =>
    [
        .. Enumerable.Range(0, 60).Select(i => new RunWrite
        {
            Id = Guid.CreateVersion7(),
            Kind = RunKind.Llm,
            Name = "step",
            Model = "gpt-4o",
            Status = i % 7 == 0 ? RunStatus.Failed : RunStatus.Succeeded,
            StartedAt = Day.AddHours(1).AddMinutes(3 * i),
            EndedAt = Day.AddHours(1).AddMinutes(3 * i).AddSeconds(2),
            Metadata = new RawJson(i < 20 ? "{\"repository\":\"acme/api\",\"persona\":\"release-bot\"}"
                : i < 40 ? "{\"repository\":\"acme/web\",\"persona\":\"triage\"}"
                : i < 50 ? "{\"repository\":7}"
                : "{\"persona\":\"release-bot\"}"),
        }),
    ];

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

    private static string Plan(StoreFixture f, string filter)
    {
        var fragment = SqliteFilterCompiler.CompileRuns(FilterParser.Parse(filter, FilterTarget.Runs)!, DateTimeOffset.UtcNow);
        using var connection = new SqliteConnection($"Data Source={f.DatabasePath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"EXPLAIN QUERY PLAN SELECT r.seq FROM runs r WHERE r.project_id = 1 AND {fragment.Sql} ORDER BY r.started_at DESC, r.id DESC LIMIT 51;";
        foreach (var (name, value) in fragment.Parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        using var reader = command.ExecuteReader();
        var plan = new List<string>();
        while (reader.Read())
        {
            plan.Add(reader.GetString(3));
        }

        return string.Join("\n", plan);
    }

    private static List<string> IndexNames(StoreFixture f)
    {
        using var connection = new SqliteConnection($"Data Source={f.DatabasePath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'ix_runs_meta_%' ORDER BY name;";
        using var reader = command.ExecuteReader();
        var names = new List<string>();
        while (reader.Read())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }
}
