using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;

namespace RunLedger.Sqlite.Tests.Store;

/// <summary>
/// How <see cref="SqliteSharedText"/> counts long lines before they become blocks, on the block
/// tables of an index in memory: a line whose block was pruned is counted afresh, and what the
/// bounded queue of counted lines forgets never cuts that new count short.
/// </summary>
public sealed class SqliteSharedTextCandidateTests
{
    private const long Seq = 1;

    [Fact]
    public void LinePrunedThenCountedAgain_ItsOldQueueEntryLeaving_DoesNotEndTheNewCount()
    {
        using var index = new SqliteConnection("Data Source=:memory:");
        index.Open();
        using (var create = index.CreateCommand())
        {
            create.CommandText = SqliteSearchIndex.BlockTablesSql("main");
            create.ExecuteNonQuery();
        }

        var shared = new SqliteSharedText();
        using var statements = new SqliteSharedText.Statements(index);
        var line = Line("shared");

        // The line becomes a block at its eighth sighting, held by one run, which then lets it go.
        for (var i = 1; i < SqliteSharedText.MinSightings; i++)
        {
            Blocks(shared, statements, line).ShouldBeEmpty();
        }

        var block = Blocks(shared, statements, line).ShouldHaveSingleItem();
        Hold(statements, block);
        shared.Release(statements, Seq);
        shared.PruneReleased(statements).ShouldBe(1);
        Count(index, "SELECT count(*) FROM fts_blocks").ShouldBe(0);

        // Counted afresh: its first new sighting, then enough other lines that its entry from the
        // first count leaves the queue (the new one stays).
        Blocks(shared, statements, line).ShouldBeEmpty();
        for (var i = 0; i < SqliteSharedText.MaxCandidates - 1; i++)
        {
            Blocks(shared, statements, Line("other" + i.ToString(CultureInfo.InvariantCulture))).ShouldBeEmpty();
        }

        for (var i = 2; i < SqliteSharedText.MinSightings; i++)
        {
            Blocks(shared, statements, line).ShouldBeEmpty();
        }

        Blocks(shared, statements, line).ShouldHaveSingleItem();
        Count(index, "SELECT count(*) FROM fts_blocks").ShouldBe(1);
    }

    [Fact]
    public void BlockStillHeld_IsNotPruned_AndReleasingTheLastRunPrunesIt()
    {
        using var index = new SqliteConnection("Data Source=:memory:");
        index.Open();
        using (var create = index.CreateCommand())
        {
            create.CommandText = SqliteSearchIndex.BlockTablesSql("main");
            create.ExecuteNonQuery();
        }

        var shared = new SqliteSharedText();
        using var statements = new SqliteSharedText.Statements(index);
        var line = Line("shared");
        for (var i = 1; i <= SqliteSharedText.MinSightings + 1; i++)
        {
            if (Blocks(shared, statements, line) is [var block])
            {
                Hold(statements, block, seq: i);
            }
        }

        Count(index, "SELECT count(*) FROM fts_run_blocks").ShouldBe(2);
        shared.Release(statements, SqliteSharedText.MinSightings);
        shared.PruneReleased(statements).ShouldBe(0);
        Count(index, "SELECT count(*) FROM blocks_fts WHERE blocks_fts MATCH 'shared'").ShouldBe(1);

        shared.Release(statements, SqliteSharedText.MinSightings + 1);
        shared.PruneReleased(statements).ShouldBe(1);
        Count(index, "SELECT count(*) FROM fts_blocks").ShouldBe(0);
        Count(index, "SELECT count(*) FROM blocks_fts WHERE blocks_fts MATCH 'shared'").ShouldBe(0);
    }

    /// <summary>A line of 81 words (about 570 bytes) opening with <paramref name="first"/>: long enough to become a block.</summary>
    private static byte[] Line(string first) =>
        Encoding.UTF8.GetBytes(first + " " + string.Join(' ', Enumerable.Range(1, 80).Select(i => "word" + i.ToString(CultureInfo.InvariantCulture))));

    /// <summary>The blocks of <paramref name="line"/> as the text of another run than the call before.</summary>
    private static long[] Blocks(SqliteSharedText shared, SqliteSharedText.Statements statements, byte[] line) =>
        [.. shared.Split(statements, Interlocked.Increment(ref _runs), line).Blocks];

    private static long _runs;

    private static void Hold(SqliteSharedText.Statements statements, long block, long seq = Seq)
    {
        statements.Hold.Bind(1, block);
        statements.Hold.Bind(2, seq);
        statements.Hold.ExecuteNonQuery();
    }

    private static long Count(SqliteConnection index, string sql)
    {
        using var command = index.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }
}
