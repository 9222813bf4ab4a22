using Microsoft.Data.Sqlite;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Payloads;
using RunLedger.Core.Storage;
using RunLedger.Core.Storage.Transfer;
using static RunLedger.Sqlite.Tests.Store.SqliteFtsIndexingTests;

namespace RunLedger.Sqlite.Tests.Store;

/// <summary>
/// The full-text index is derived data in a file of its own (<c>&lt;ledger&gt;.fts</c>): whatever
/// happens to that file (missing, damaged, another ledger's, ahead of its ledger), search keeps
/// giving exactly the runs whose current text matches, and the index is rebuilt from the bodies.
/// </summary>
public sealed class SqliteSearchIndexFileTests
{
    [Fact]
    public async Task IndexFile_Missing_IsRebuiltAndSearchWorksMeanwhile()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var id = await WriteAsync(f, project.Id, "missing file words");
        await WaitUntilIndexedAsync(f);
        await f.Store.DisposeAsync();
        DeleteIndex(f);

        // Opened for reading only, nothing rebuilds it: search reads the bodies.
        await f.ReopenAsync(new SqliteStoreOptions { IndexInBackground = false });
        (await SearchAsync(f, project.Id, "\"missing file\"")).ShouldBe([id]);

        await f.ReopenAsync();
        await WaitUntilIndexedAsync(f);
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'missing'").ShouldBe(1);
        (await SearchAsync(f, project.Id, "\"missing file\"")).ShouldBe([id]);
    }

    [Fact]
    public async Task IndexFile_Damaged_IsReplacedAndRebuilt()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var id = await WriteAsync(f, project.Id, "damaged file words");
        await WaitUntilIndexedAsync(f);
        await f.Store.DisposeAsync();
        DeleteIndex(f);
        await File.WriteAllBytesAsync(f.IndexPath, [.. Enumerable.Repeat((byte)0x5A, 8192)]);

        await f.ReopenAsync();
        (await SearchAsync(f, project.Id, "\"damaged file\"")).ShouldBe([id]);
        await WaitUntilIndexedAsync(f);
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'damaged'").ShouldBe(1);
    }

    [Fact]
    public async Task IndexFile_OfAnotherLedger_IsNeverTrustedAndIsRebuilt()
    {
        await using var other = await StoreFixture.OpenAsync();
        var otherProject = await other.Store.Admin.GetOrCreateProjectAsync("p", default);
        await WriteAsync(other, otherProject.Id, "foreign words");
        await WaitUntilIndexedAsync(other);
        await other.Store.DisposeAsync();

        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var id = await WriteAsync(f, project.Id, "native words");
        await WaitUntilIndexedAsync(f);
        await f.Store.DisposeAsync();

        // The other ledger's index is copied beside this one (same seqs, other texts).
        DeleteIndex(f);
        File.Copy(other.IndexPath, f.IndexPath);

        // Read-only: nothing rebuilds, yet no entry of the foreign index is used.
        await f.ReopenAsync(new SqliteStoreOptions { IndexInBackground = false });
        (await SearchAsync(f, project.Id, "\"foreign\"")).ShouldBeEmpty();
        (await SearchAsync(f, project.Id, "\"native words\"")).ShouldBe([id]);

        await f.ReopenAsync();
        await WaitUntilIndexedAsync(f);
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'foreign'").ShouldBe(0);
        (await SearchAsync(f, project.Id, "\"foreign\"")).ShouldBeEmpty();
        (await SearchAsync(f, project.Id, "\"native words\"")).ShouldBe([id]);
    }

    [Fact]
    public async Task IndexFile_AheadOfItsLedger_SeqsReusedByNewRuns_NeverMatchTheirOldText()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var kept = await WriteAsync(f, project.Id, "kept words");
        await WaitUntilIndexedAsync(f);
        await f.Store.DisposeAsync();

        // An older copy of the ledger (a file copy: same token as the index).
        var copy = Path.Combine(f.Directory, "older.db");
        File.Copy(f.DatabasePath, copy);

        await f.ReopenAsync();
        await WriteAsync(f, project.Id, "vanished words");
        await WaitUntilIndexedAsync(f);
        await f.Store.DisposeAsync();

        // The ledger goes back to the older copy while the index stays as it was.
        SqliteConnection.ClearAllPools();
        File.Copy(copy, f.DatabasePath, overwrite: true);
        File.Delete(f.DatabasePath + "-wal");
        File.Delete(f.DatabasePath + "-shm");

        await f.ReopenAsync();
        var reused = await WriteAsync(f, project.Id, "newcomer words");
        f.Scalar("SELECT seq FROM runs WHERE id = (SELECT id FROM runs ORDER BY seq DESC LIMIT 1)").ShouldBe(2);
        (await SearchAsync(f, project.Id, "\"vanished\"")).ShouldBeEmpty();
        (await SearchAsync(f, project.Id, "\"newcomer words\"")).ShouldBe([reused]);
        await WaitUntilIndexedAsync(f);
        (await SearchAsync(f, project.Id, "\"vanished\"")).ShouldBeEmpty();
        (await SearchAsync(f, project.Id, "\"kept words\"")).ShouldBe([kept]);
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'vanished'").ShouldBe(0);
    }

    [Fact]
    public async Task Update_WhileTheIndexerIsStopped_OldTextNeverMatchesOnceAcknowledged()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var id = await WriteAsync(f, project.Id, "original words");
        await WaitUntilIndexedAsync(f);
        await ((SqliteWriter)f.Store.Writer).StopIndexerAsync();

        await f.WriteAsync(project.Id, [new RunWrite { Id = id, Input = RawJson.FromString("replacement words") }]);
        (await SearchAsync(f, project.Id, "\"original\"")).ShouldBeEmpty();
        (await SearchAsync(f, project.Id, "\"replacement words\"")).ShouldBe([id]);
        (await f.Store.CountUnindexedRunsAsync(default)).ShouldBe(1);

        // The same run changes again before the indexer gets there: still one pending row, newer generation.
        await f.WriteAsync(project.Id, [new RunWrite { Id = id, Output = RawJson.FromString("an answer") }]);
        f.Scalar("SELECT gen FROM fts_pending").ShouldBe(2);

        await f.ReopenAsync();
        await WaitUntilIndexedAsync(f);
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'original'").ShouldBe(0);
        (await SearchAsync(f, project.Id, "\"an answer\"")).ShouldBe([id]);
        (await SearchAsync(f, project.Id, "\"replacement words\"")).ShouldBe([id]);
        (await f.Store.CountUnindexedRunsAsync(default)).ShouldBe(0);
    }

    [Fact]
    public async Task Clear_ThenImport_SeqsReused_TheOldIndexIsNotTrustedEvenBeforeTheIndexerRuns()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        await WriteAsync(f, project.Id, "cleared words");
        await WaitUntilIndexedAsync(f);
        await ((SqliteWriter)f.Store.Writer).StopIndexerAsync();

        await using var source = await StoreFixture.OpenAsync();
        var sourceProject = await source.Store.Admin.GetOrCreateProjectAsync("p", default);
        var imported = await WriteAsync(source, sourceProject.Id, "imported words");
        var sourceTransfer = ((ITransferableStore)source.Store).Transfer;
        var records = new List<TransferRecord>();
        records.AddRange(await sourceTransfer.ExportProjectsAsync(default));
        records.AddRange(await sourceTransfer.ExportRunsAsync("p", null, 100, default));

        var transfer = ((ITransferableStore)f.Store).Transfer;
        await transfer.ClearAsync(default);
        await transfer.ImportAsync(records, new TransferCheckpoint("src", "end", true), default);
        var newProject = (await f.Store.Admin.FindProjectAsync("p", default))!;
        f.Scalar("SELECT min(seq) FROM runs").ShouldBe(1);
        (await SearchAsync(f, newProject.Id, "\"cleared\"")).ShouldBeEmpty();
        (await SearchAsync(f, newProject.Id, "\"imported words\"")).ShouldBe([imported]);

        await f.ReopenAsync();
        await WaitUntilIndexedAsync(f);
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'cleared'").ShouldBe(0);
        (await SearchAsync(f, newProject.Id, "\"imported words\"")).ShouldBe([imported]);
    }

    [Fact]
    public async Task Import_UpdateOfAnIndexedRun_ReachesTheIndex()
    {
        await using var source = await StoreFixture.OpenAsync();
        var sourceProject = await source.Store.Admin.GetOrCreateProjectAsync("p", default);
        var id = await WriteAsync(source, sourceProject.Id, "before import");

        await using var f = await StoreFixture.OpenAsync();
        var transfer = ((ITransferableStore)f.Store).Transfer;
        var sourceTransfer = ((ITransferableStore)source.Store).Transfer;
        await transfer.ImportAsync([.. await sourceTransfer.ExportProjectsAsync(default), .. await sourceTransfer.ExportRunsAsync("p", null, 100, default)], new TransferCheckpoint("src", "1", false), default);
        await WaitUntilIndexedAsync(f);
        var project = (await f.Store.Admin.FindProjectAsync("p", default))!;
        (await SearchAsync(f, project.Id, "\"before import\"")).ShouldBe([id]);

        await Task.Delay(2); // a later updated_at, so the import takes the new version
        await source.WriteAsync(sourceProject.Id, [new RunWrite { Id = id, Input = RawJson.FromString("after import") }]);
        await ((SqliteWriter)f.Store.Writer).StopIndexerAsync();
        await transfer.ImportAsync([.. await sourceTransfer.ExportRunsAsync("p", null, 100, default)], new TransferCheckpoint("src", "2", true), default);
        (await SearchAsync(f, project.Id, "\"before\"")).ShouldBeEmpty();
        (await SearchAsync(f, project.Id, "\"after import\"")).ShouldBe([id]);

        await f.ReopenAsync();
        await WaitUntilIndexedAsync(f);
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'before'").ShouldBe(0);
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'after'").ShouldBe(1);
    }

    [Fact]
    public async Task Restore_GivesTheLedgerANewToken_AndTheIndexIsRebuiltFromTheBackup()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var early = await WriteAsync(f, project.Id, "early words");
        var backup = Path.Combine(f.Directory, "backup.db");
        await SqliteBackup.BackupAsync(f.DatabasePath, backup, 5000, default);
        File.Exists(SqliteSearchIndex.PathFor(backup)).ShouldBeFalse();
        await WriteAsync(f, project.Id, "late words");
        await WaitUntilIndexedAsync(f);
        var token = f.Scalar("SELECT hex(token) = (SELECT hex(token) FROM fts.fts_progress) FROM fts_owner");
        token.ShouldBe(1);
        await f.Store.DisposeAsync();

        await SqliteBackup.RestoreAsync(backup, f.DatabasePath, 5000, default);
        File.Exists(f.IndexPath).ShouldBeFalse();
        await f.ReopenAsync();
        var later = await WriteAsync(f, project.Id, "later words");
        (await SearchAsync(f, project.Id, "\"late\"")).ShouldBeEmpty();
        (await SearchAsync(f, project.Id, "\"later words\"")).ShouldBe([later]);
        await WaitUntilIndexedAsync(f);
        (await SearchAsync(f, project.Id, "\"early words\"")).ShouldBe([early]);
        (await SearchAsync(f, project.Id, "\"late\"")).ShouldBeEmpty();
    }

    [Fact]
    public async Task Migration_FromTheSingleFileLayout_DropsTheOldIndexAndBuildsTheFile()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        var id = await WriteAsync(f, project.Id, "migrated words");
        await WaitUntilIndexedAsync(f);
        await f.Store.DisposeAsync();

        // The layout of schema version 9: the index inside the ledger, no index file.
        DeleteIndex(f);
        using (var connection = new SqliteConnection($"Data Source={f.DatabasePath};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText =
                "DROP TABLE fts_owner; DROP TABLE fts_pending; DELETE FROM schema_version WHERE version = 10; " +
                "CREATE VIRTUAL TABLE runs_fts USING fts5(body, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2'); " +
                "CREATE TABLE fts_progress (id INTEGER PRIMARY KEY CHECK (id = 1), indexed_seq INTEGER NOT NULL); " +
                "INSERT INTO fts_progress VALUES (1, (SELECT max(seq) FROM runs)); INSERT INTO runs_fts (rowid, body) SELECT seq, 'migrated words' FROM runs;";
            command.ExecuteNonQuery();
        }

        await f.ReopenAsync();
        f.Scalar("SELECT count(*) FROM sqlite_master WHERE name IN ('runs_fts', 'fts_progress')").ShouldBe(0);
        (await SearchAsync(f, project.Id, "\"migrated words\"")).ShouldBe([id]);
        await WaitUntilIndexedAsync(f);
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'migrated'").ShouldBe(1);
    }

    [Fact]
    public async Task Close_ContinuesTheCallerOffTheIndexerThread()
    {
        await using var f = await StoreFixture.OpenAsync();
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        await WriteAsync(f, project.Id, "closing words");

        // Without a synchronization context to return to, the caller continues wherever the
        // awaited close completes: it must not be the indexer's own thread as that thread ends.
        (await CloseAsync(f.Store)).ShouldNotBe("RunLedger full-text indexer");

        static async Task<string?> CloseAsync(IAsyncDisposable store)
        {
            await store.DisposeAsync().ConfigureAwait(false);
            return Thread.CurrentThread.Name;
        }
    }

    internal static async Task<Guid> WriteAsync(StoreFixture f, long projectId, string input)
    {
        var id = Guid.CreateVersion7();
        await f.WriteAsync(projectId, [new RunWrite { Id = id, Kind = RunKind.Llm, StartedAt = StoreFixture.Day, Input = RawJson.FromString(input) }]);
        return id;
    }

    internal static void DeleteIndex(StoreFixture f)
    {
        SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(f.IndexPath + suffix);
        }
    }
}
