using System.Globalization;
using Microsoft.Data.Sqlite;

namespace RunLedger.Server.Tests;

/// <summary>Reads the server's SQLite file directly (read-only), to check what really is stored.</summary>
internal static class LedgerDatabase
{
    public static long Count(LedgerTestServer server, string table, string? where = null)
    {
        var path = Path.Combine(server.DataDirectory, "runledger.db");
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        };
        using var connection = new SqliteConnection(builder.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM " + table + (where is null ? string.Empty : " WHERE " + where);
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>Changes the server's SQLite file behind its back (to damage stored data).</summary>
    public static int Execute(LedgerTestServer server, string sql)
    {
        var builder = new SqliteConnectionStringBuilder { DataSource = Path.Combine(server.DataDirectory, "runledger.db"), Pooling = false };
        using var connection = new SqliteConnection(builder.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteNonQuery();
    }
}
