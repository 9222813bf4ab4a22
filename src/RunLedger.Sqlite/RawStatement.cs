using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace RunLedger.Sqlite;

/// <summary>
/// A statement of the writer's hot loop (one run, event or body insert per row), prepared once on
/// the writer connection and bound by parameter position, or a hot read loop (the stats scan of
/// rollup rows, whose histograms are read in place instead of copied into an array per row). <see cref="SqliteCommand"/> looks every
/// parameter up by name and converts its name on each execution, which cost more than the insert
/// itself for a 31-column run row. It runs inside the connection's current transaction; errors
/// surface as <see cref="SqliteException"/> with SQLite's code, as from a command.
/// </summary>
internal sealed class RawStatement : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly sqlite3_stmt _statement;
    private readonly Dictionary<string, int> _positions = new(StringComparer.Ordinal);

    public RawStatement(SqliteConnection connection, string sql)
    {
        _connection = connection;
        var rc = raw.sqlite3_prepare_v2(connection.Handle, sql, out _statement);
        SqliteException.ThrowExceptionForRC(rc, connection.Handle);
        var count = raw.sqlite3_bind_parameter_count(_statement);
        for (var i = 1; i <= count; i++)
        {
            _positions[raw.sqlite3_bind_parameter_name(_statement, i).utf8_to_string()] = i;
        }
    }

    /// <summary>The position of a named parameter, for binding by position in the loop.</summary>
    public int Position(string name) =>
        _positions.TryGetValue(name, out var position) ? position : throw new ArgumentException($"The statement has no parameter {name}.", nameof(name));

    public void Bind(int position, long value) => Check(raw.sqlite3_bind_int64(_statement, position, value));

    public void Bind(int position, long? value) => Check(value is { } v ? raw.sqlite3_bind_int64(_statement, position, v) : raw.sqlite3_bind_null(_statement, position));

    public void Bind(int position, string? value) => Check(value is null ? raw.sqlite3_bind_null(_statement, position) : raw.sqlite3_bind_text(_statement, position, value));

    /// <summary>Binds text that is already UTF-8 (no conversion, no copy on the managed heap).</summary>
    public void BindUtf8(int position, ReadOnlySpan<byte> value) => Check(raw.sqlite3_bind_text(_statement, position, value));

    /// <summary>
    /// Binds a UUID as the 16-byte big-endian blob the ledger stores (as
    /// <see cref="Core.Storage.StorageUnits.ToBytes(Guid)"/> gives it), without an array per value.
    /// </summary>
    public void Bind(int position, Guid? value)
    {
        if (value is not { } id)
        {
            Check(raw.sqlite3_bind_null(_statement, position));
            return;
        }

        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes, bigEndian: true, out _);
        Check(raw.sqlite3_bind_blob(_statement, position, bytes));
    }

    /// <summary>Binds a blob from anywhere in memory (SQLite copies it).</summary>
    public void BindBlob(int position, ReadOnlySpan<byte> value) => Check(
        value.IsEmpty ? raw.sqlite3_bind_zeroblob(_statement, position, 0) : raw.sqlite3_bind_blob(_statement, position, value));

    /// <summary>Binds a blob; an empty array stays an empty blob, not NULL.</summary>
    public void Bind(int position, byte[]? value) => Check(
        value is null ? raw.sqlite3_bind_null(_statement, position)
        : value.Length == 0 ? raw.sqlite3_bind_zeroblob(_statement, position, 0)
        : raw.sqlite3_bind_blob(_statement, position, value));

    /// <summary>Runs the statement; the first column of its first row as a number, or null when it returned no row.</summary>
    public long? ExecuteScalarInt64()
    {
        try
        {
            var rc = raw.sqlite3_step(_statement);
            if (rc == raw.SQLITE_ROW)
            {
                return raw.sqlite3_column_int64(_statement, 0);
            }

            if (rc != raw.SQLITE_DONE)
            {
                SqliteException.ThrowExceptionForRC(rc, _connection.Handle);
            }

            return null;
        }
        finally
        {
            raw.sqlite3_reset(_statement);
        }
    }

    /// <summary>
    /// Runs an INSERT that may insert one row or none (ON CONFLICT DO NOTHING, INSERT OR IGNORE);
    /// the new row's rowid, or null when it inserted nothing. Cheaper than a RETURNING clause,
    /// which SQLite runs through a temporary result table: about 2 µs per insert, twice per run.
    /// The statement must not fire triggers that insert (none of the writer's tables has any).
    /// </summary>
    public long? ExecuteInsert() => ExecuteNonQuery() == 1 ? raw.sqlite3_last_insert_rowid(_connection.Handle) : null;

    /// <summary>Runs the statement; the number of rows it changed.</summary>
    public int ExecuteNonQuery()
    {
        try
        {
            var rc = raw.sqlite3_step(_statement);
            if (rc != raw.SQLITE_DONE && rc != raw.SQLITE_ROW)
            {
                SqliteException.ThrowExceptionForRC(rc, _connection.Handle);
            }

            return raw.sqlite3_changes(_connection.Handle);
        }
        finally
        {
            raw.sqlite3_reset(_statement);
        }
    }

    /// <summary>Steps to the next row of a query; false when there is none (the statement is then reset).</summary>
    public bool Read()
    {
        var rc = raw.sqlite3_step(_statement);
        if (rc == raw.SQLITE_ROW)
        {
            return true;
        }

        raw.sqlite3_reset(_statement);
        if (rc != raw.SQLITE_DONE)
        {
            SqliteException.ThrowExceptionForRC(rc, _connection.Handle);
        }

        return false;
    }

    /// <summary>Ends a query before its last row was read, so the statement can run again.</summary>
    public void Reset() => raw.sqlite3_reset(_statement);

    public bool IsNull(int column) => raw.sqlite3_column_type(_statement, column) == raw.SQLITE_NULL;

    public long Int64(int column) => raw.sqlite3_column_int64(_statement, column);

    public string Text(int column) => raw.sqlite3_column_text(_statement, column).utf8_to_string();

    /// <summary>The column's bytes, valid until the next step; empty for NULL.</summary>
    public ReadOnlySpan<byte> Blob(int column) => raw.sqlite3_column_blob(_statement, column);

    public void Dispose() => _statement.Dispose();

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(rc, _connection.Handle);
        }
    }
}
