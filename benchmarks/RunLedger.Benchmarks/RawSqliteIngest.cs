using Microsoft.Data.Sqlite;

namespace RunLedger.Benchmarks;

/// <summary>
/// The engine's limit: a prepared INSERT of the flat row into a fresh SQLite file (WAL,
/// synchronous=FULL), one transaction per batch, nothing else.
/// </summary>
internal static class RawSqliteIngest
{
    private const string Schema = """
        CREATE TABLE runs (
            id TEXT PRIMARY KEY, session_id TEXT, parent_id TEXT, kind TEXT, name TEXT, status TEXT,
            started_at TEXT, ended_at TEXT, model TEXT, provider TEXT, parameters TEXT, input TEXT,
            output TEXT, error TEXT, input_tokens INTEGER, output_tokens INTEGER, cost_usd REAL,
            tags TEXT, metadata TEXT, user_id TEXT);
        """;

    private static readonly string[] Names =
    [
        "id", "session_id", "parent_id", "kind", "name", "status", "started_at", "ended_at", "model", "provider",
        "parameters", "input", "output", "error", "input_tokens", "output_tokens", "cost_usd", "tags", "metadata", "user_id",
    ];

    public static IngestResult Run(IReadOnlyList<FlatRun> runs, int batchSize, string directory)
    {
        using var connection = Open(Path.Combine(directory, "raw.db"));
        Execute(connection, Schema);
        using var insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO runs (" + string.Join(", ", Names) + ") VALUES (" + string.Join(", ", Names.Select(n => "@" + n)) + ")";
        var parameters = Names.Select(n => insert.Parameters.Add(new SqliteParameter("@" + n, null))).ToArray();
        insert.Prepare();

        var clock = CpuClock.StartNew();
        for (var start = 0; start < runs.Count; start += batchSize)
        {
            using var transaction = connection.BeginTransaction();
            insert.Transaction = transaction;
            var end = Math.Min(runs.Count, start + batchSize);
            for (var i = start; i < end; i++)
            {
                Bind(parameters, runs[i]);
                insert.ExecuteNonQuery();
            }

            transaction.Commit();
        }

        return new IngestResult("raw SQLite (prepared INSERT)", batchSize, runs.Count, clock.Elapsed, Extrapolated: false, clock.Cpu);
    }

    /// <summary>A connection with the same durability as RunLedger's store: WAL, synchronous=FULL.</summary>
    internal static SqliteConnection Open(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        Execute(connection, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static void Bind(SqliteParameter[] p, FlatRun run)
    {
        p[0].Value = run.Id;
        p[1].Value = (object?)run.SessionId ?? DBNull.Value;
        p[2].Value = (object?)run.ParentId ?? DBNull.Value;
        p[3].Value = (object?)run.Kind ?? DBNull.Value;
        p[4].Value = (object?)run.Name ?? DBNull.Value;
        p[5].Value = (object?)run.Status ?? DBNull.Value;
        p[6].Value = (object?)run.StartedAt ?? DBNull.Value;
        p[7].Value = (object?)run.EndedAt ?? DBNull.Value;
        p[8].Value = (object?)run.Model ?? DBNull.Value;
        p[9].Value = (object?)run.Provider ?? DBNull.Value;
        p[10].Value = (object?)run.Parameters ?? DBNull.Value;
        p[11].Value = (object?)run.Input ?? DBNull.Value;
        p[12].Value = (object?)run.Output ?? DBNull.Value;
        p[13].Value = (object?)run.Error ?? DBNull.Value;
        p[14].Value = (object?)run.InputTokens ?? DBNull.Value;
        p[15].Value = (object?)run.OutputTokens ?? DBNull.Value;
        p[16].Value = (object?)run.CostUsd ?? DBNull.Value;
        p[17].Value = (object?)run.Tags ?? DBNull.Value;
        p[18].Value = (object?)run.Metadata ?? DBNull.Value;
        p[19].Value = (object?)run.UserId ?? DBNull.Value;
    }
}
