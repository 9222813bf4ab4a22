using Microsoft.Data.Sqlite;

namespace RunLedger.Sqlite.Tests.Store;

/// <summary>The writer's positional statements store what a <see cref="SqliteCommand"/> would.</summary>
public sealed class RawStatementTests
{
    [Fact]
    public void Bind_EmptyTextAndBlobAndNulls_AreStoredAsSuch()
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        using (var create = connection.CreateCommand())
        {
            create.CommandText = "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b BLOB, c INTEGER, d TEXT);";
            create.ExecuteNonQuery();
        }

        using (var insert = new RawStatement(connection, "INSERT INTO t (a, b, c, d) VALUES (@a, @b, @c, @d) RETURNING id;"))
        {
            insert.Bind(insert.Position("@a"), string.Empty);
            insert.Bind(insert.Position("@b"), Array.Empty<byte>());
            insert.Bind(insert.Position("@c"), (long?)null);
            insert.Bind(insert.Position("@d"), "héllo ✓");
            insert.ExecuteScalarInt64().ShouldBe(1);
            Should.Throw<ArgumentException>(() => insert.Position("@missing"));
        }

        using var check = connection.CreateCommand();
        check.CommandText = "SELECT typeof(a) || ',' || typeof(b) || ',' || typeof(c) || ',' || length(b) || ',' || d FROM t;";
        check.ExecuteScalar().ShouldBe("text,blob,null,0,héllo ✓");
    }

    [Fact]
    public void Execute_ConstraintViolation_ThrowsSqliteExceptionAndLeavesTheStatementReusable()
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        using (var create = connection.CreateCommand())
        {
            create.CommandText = "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT NOT NULL);";
            create.ExecuteNonQuery();
        }

        using var insert = new RawStatement(connection, "INSERT INTO t (a) VALUES (?1);");
        insert.Bind(1, (string?)null);
        Should.Throw<SqliteException>(() => insert.ExecuteNonQuery()).SqliteErrorCode.ShouldBe(19);
        insert.Bind(1, "x");
        insert.ExecuteNonQuery().ShouldBe(1);
    }

    [Fact]
    public void ExecuteInsert_ConflictRightAfterAnInsert_ReturnsNullNotThePreviousRowid()
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        using (var create = connection.CreateCommand())
        {
            create.CommandText = "CREATE TABLE t (seq INTEGER PRIMARY KEY, k TEXT NOT NULL UNIQUE);";
            create.ExecuteNonQuery();
        }

        using var insert = new RawStatement(connection, "INSERT INTO t (k) VALUES (?1) ON CONFLICT (k) DO NOTHING;");
        using var ignore = new RawStatement(connection, "INSERT OR IGNORE INTO t (k) VALUES (?1);");
        insert.Bind(1, "a");
        insert.ExecuteInsert().ShouldBe(1);
        insert.Bind(1, "b");
        insert.ExecuteInsert().ShouldBe(2);

        // The last insert changed one row; a conflicting one must not report that row again.
        insert.Bind(1, "a");
        insert.ExecuteInsert().ShouldBeNull();
        ignore.Bind(1, "b");
        ignore.ExecuteInsert().ShouldBeNull();
        ignore.Bind(1, "c");
        ignore.ExecuteInsert().ShouldBe(3);
    }

    [Fact]
    public void Reset_AfterReadingOneRowOfMany_LetsTheQueryRunAgainFromTheStart()
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        using var select = new RawStatement(connection, "SELECT column1 FROM (VALUES (1), (2), (3));");
        select.Read().ShouldBeTrue();
        select.Int64(0).ShouldBe(1);
        select.Reset();
        select.Read().ShouldBeTrue();
        select.Int64(0).ShouldBe(1);
        select.Reset();
    }
}
