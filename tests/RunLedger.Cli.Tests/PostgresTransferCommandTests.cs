using RunLedger.Core.Ingest;
using RunLedger.Core.Payloads;
using RunLedger.Core.Workload;
using RunLedger.Sqlite;

namespace RunLedger.Cli.Tests;

/// <summary><c>migrate</c>, <c>backup</c> and <c>restore</c> between SQLite files and a real PostgreSQL server.</summary>
public sealed class PostgresTransferCommandTests(PostgresServerFixture postgres) : IClassFixture<PostgresServerFixture>, IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "runledger-cli-pg", Guid.NewGuid().ToString("N"));

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
    public async Task Migrate_SqliteToPostgresToSqlite_VerifyReportsEveryRunIdentical()
    {
        var source = await CreateWorkloadAsync("source.db", runs: 300);
        var database = postgres.Server.ConnectionString(await postgres.Server.CreateDatabaseAsync(TestContext.Current.CancellationToken));

        var there = Host();
        (await there.RunAsync("migrate", "--from", source, "--to", database, "--verify")).ShouldBe(0, there.Error.ToString());
        there.Output.ToString().ShouldContain("every run identical (300 of 300");
        there.Output.ToString().ShouldNotContain("Password=", Case.Insensitive);

        var back = Host();
        (await back.RunAsync("migrate", "--from", database, "--to", "back.db", "--verify")).ShouldBe(0, back.Error.ToString());
        back.Output.ToString().ShouldContain("every run identical (300 of 300");

        var compare = Host();
        (await compare.RunAsync("migrate", "--from", source, "--to", "back.db", "--verify")).ShouldBe(2);
        compare.Error.ToString().ShouldContain("did not come from this source");
    }

    [Fact]
    public async Task Backup_OfPostgres_IsALogicalExportThatRestoresIntoSqlite()
    {
        var source = await CreateWorkloadAsync("source.db", runs: 80);
        var database = postgres.Server.ConnectionString(await postgres.Server.CreateDatabaseAsync(TestContext.Current.CancellationToken));
        var copy = Host();
        (await copy.RunAsync("migrate", "--from", source, "--to", database)).ShouldBe(0, copy.Error.ToString());

        var backup = Host();
        (await backup.RunAsync("backup", "pg.jsonl.gz", "--store", database)).ShouldBe(0, backup.Error.ToString());
        backup.Output.ToString().ShouldContain("logical export (gzip JSON Lines)");

        var restore = Host();
        (await restore.RunAsync("restore", "pg.jsonl.gz", "--store", "restored.db")).ShouldBe(0, restore.Error.ToString());
        Flat(restore.Output).ShouldContain("80 runs");

        var refused = Host();
        (await refused.RunAsync("restore", "pg.jsonl.gz", "--store", database)).ShouldBe(2);
        refused.Error.ToString().ShouldContain("already holds 80 runs");

        var verify = Host();
        (await verify.RunAsync("migrate", "--from", "pg.jsonl.gz", "--to", "restored.db", "--verify")).ShouldBe(0, verify.Error.ToString());
        verify.Output.ToString().ShouldContain("0 records written");
        verify.Output.ToString().ShouldContain("every run identical (80 of 80");
    }

    /// <summary>Console output with Spectre's line wrapping undone.</summary>
    private static string Flat(StringWriter output) => System.Text.RegularExpressions.Regex.Replace(output.ToString(), @"\s+", " ");

    private TestHost Host() => new() { CurrentDirectory = _directory, Time = TimeProvider.System };

    private async Task<string> CreateWorkloadAsync(string file, int runs)
    {
        Directory.CreateDirectory(_directory);
        var path = Path.Combine(_directory, file);
        var store = new SqliteLedgerStore(path, new SqliteStoreOptions(), new PayloadOptions(), TimeProvider.System);
        await using (store)
        {
            await store.InitializeAsync(TestContext.Current.CancellationToken);
            var project = await store.Admin.GetOrCreateProjectAsync("default", TestContext.Current.CancellationToken);
            var validator = new IngestValidator(new IngestOptions());
            var night = new DateTimeOffset(2026, 11, 21, 22, 0, 0, TimeSpan.Zero);
            foreach (var request in new WorkloadGenerator(new WorkloadOptions { Seed = 11, NightStart = night, TargetRuns = runs, Sessions = 3 }).Generate(100))
            {
                var validated = validator.Validate(request, project.Id, "demo", night.AddHours(9));
                (await store.Writer.WriteAsync([validated.Batch], TestContext.Current.CancellationToken))[0].Error.ShouldBeNull();
            }
        }

        return path;
    }
}
