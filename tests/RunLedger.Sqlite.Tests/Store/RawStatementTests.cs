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
}
