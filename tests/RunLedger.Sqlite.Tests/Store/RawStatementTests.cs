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
    public void Bind_UuidAndBlobSpan_StoreTheBytesACommandWould()
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        using (var create = connection.CreateCommand())
        {
            create.CommandText = "CREATE TABLE t (id INTEGER PRIMARY KEY, u BLOB, n BLOB, b BLOB, e BLOB);";
            create.ExecuteNonQuery();
        }

        var id = Guid.Parse("0192f1e2-3c4d-7e5f-8a9b-0c1d2e3f4a5b");
        var pooled = new byte[] { 9, 1, 2, 3, 9 };
        using (var insert = new RawStatement(connection, "INSERT INTO t (u, n, b, e) VALUES (?1, ?2, ?3, ?4);"))
        {
            insert.Bind(1, (Guid?)id);
            insert.Bind(2, (Guid?)null);
            insert.BindBlob(3, pooled.AsSpan(1, 3));
            insert.BindBlob(4, ReadOnlySpan<byte>.Empty);

            // SQLite keeps its own copy: the caller may reuse its buffer before the statement runs.
            pooled.AsSpan().Clear();
            insert.ExecuteNonQuery().ShouldBe(1);
        }

        using var check = connection.CreateCommand();
        check.CommandText = "SELECT u, typeof(n), b, typeof(e), length(e) FROM t;";
        using var reader = check.ExecuteReader();
        reader.Read().ShouldBeTrue();
        reader.GetFieldValue<byte[]>(0).ShouldBe(RunLedger.Core.Storage.StorageUnits.ToBytes(id));
        reader.GetString(1).ShouldBe("null");
        reader.GetFieldValue<byte[]>(2).ShouldBe(new byte[] { 1, 2, 3 });
        reader.GetString(3).ShouldBe("blob");
        reader.GetInt64(4).ShouldBe(0);
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
