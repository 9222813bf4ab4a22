using System.Globalization;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Payloads;
using static RunLedger.Sqlite.Tests.Store.SqliteFtsIndexingTests;
using static RunLedger.Sqlite.Tests.Store.SqliteSearchIndexFileTests;

namespace RunLedger.Sqlite.Tests.Store;

/// <summary>
/// The index file's write-ahead log stays bounded while the index is rebuilt and searched: a WAL
/// that is never restarted keeps every chunk's pages, so a rebuild needed more than the index's
/// size again in free disk (7.3 GB of WAL beside a 4.3 GB index at 10M runs).
/// </summary>
public sealed class SqliteSearchIndexWalTests
{
    private const int Runs = 24_000;
    private const int CheckpointPages = 32;

    [Fact]
    public async Task Rebuild_WhileSearchesRun_IndexWalStaysBounded()
    {
        await using var f = await StoreFixture.OpenAsync(options: new SqliteStoreOptions { WalAutoCheckpointPages = CheckpointPages });
        var project = await f.Store.Admin.GetOrCreateProjectAsync("p", default);
        for (var start = 0; start < Runs; start += 1_000)
        {
            await f.WriteAsync(project.Id, [.. Enumerable.Range(start, 1_000).Select(NewRun)]);
        }

        await WaitUntilIndexedAsync(f);
        await f.Store.DisposeAsync();
        DeleteIndex(f);

        // Reopened: the index is rebuilt from the bodies in chunks while two readers search it
        // without pause, as a dashboard or a poll of the progress does (at any moment one of
        // them holds a snapshot of the index file, so its WAL is never free to start over).
        await f.ReopenAsync(new SqliteStoreOptions { WalAutoCheckpointPages = CheckpointPages });
        using var stop = new CancellationTokenSource();
        var searches = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            var calls = 0;
            while (!stop.IsCancellationRequested)
            {
                await SearchAsync(f, project.Id, "\"lantern\"");
                calls++;
            }

            return calls;
        })).ToArray();
        try
        {
            await WaitUntilIndexedAsync(f);
        }
        finally
        {
            await stop.CancelAsync();
        }

        (await Task.WhenAll(searches)).Sum().ShouldBeGreaterThan(0);
        f.Scalar("SELECT count(*) FROM fts.runs_fts WHERE runs_fts MATCH 'lantern'").ShouldBe(Runs / 10);

        // SQLite never shrinks a WAL file by itself, so its size now is the most it reached. The
        // indexer cuts it back once it holds twice the checkpoint interval's pages (256 KiB here);
        // a chunk's pages come on top (one that merges segments writes about 1 MiB here, and one
        // search holding the WAL past the busy timeout lets another chunk in). Without the cut it
        // holds about all the pages the rebuild wrote: 1.6 to 1.8 times the index.
        var wal = new FileInfo(f.IndexPath + "-wal").Length;
        var index = new FileInfo(f.IndexPath).Length;
        index.ShouldBeGreaterThan(16L * CheckpointPages * 4096, "the index must be large beside the checkpoint interval for the bound to mean anything");
        wal.ShouldBeLessThan(index, string.Create(CultureInfo.InvariantCulture, $"index WAL {wal:N0} bytes beside an index of {index:N0} bytes"));
    }

    /// <summary>A run with a few words of its own (so the index grows with the runs) and one word in every tenth.</summary>
    private static RunWrite NewRun(int i) => new()
    {
        Id = Guid.CreateVersion7(),
        Kind = RunKind.Llm,
        StartedAt = StoreFixture.Day.AddSeconds(i),
        Input = RawJson.FromString(string.Create(CultureInfo.InvariantCulture,
            $"question {i} about w{i}a w{i * 7}b w{i * 13}c {(i % 10 == 0 ? "lantern" : "candle")} and the order {i % 997}")),
        Output = RawJson.FromString(string.Create(CultureInfo.InvariantCulture, $"answer x{i}y z{i * 3}q done")),
    };
}
