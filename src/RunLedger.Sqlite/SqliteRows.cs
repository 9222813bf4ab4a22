using Microsoft.Data.Sqlite;
using RunLedger.Core.Storage;

namespace RunLedger.Sqlite;

/// <summary>Reads rows of the runs table into <see cref="RunRow"/>.</summary>
internal static class SqliteRows
{
    /// <summary>The columns <see cref="ReadRun"/> reads, from <c>FROM runs</c> (no alias).</summary>
    public static readonly string RunColumns = RunColumnsOf("runs");

    /// <summary>
    /// The columns <see cref="ReadRun"/> reads from the runs table named <paramref name="table"/> (its
    /// name or alias); the session's text id is read back through its key.
    /// </summary>
    public static string RunColumnsOf(string table) =>
        $"{table}.seq, {table}.id, {SessionIdOf(table)}, {table}.parent_id, {table}.kind, {table}.name, {table}.status, {table}.started_at, " +
        $"{table}.ended_at, {table}.duration_us, {table}.model, {table}.provider, {table}.parameters, {table}.input_hash, {table}.output_hash, " +
        $"{table}.error_type, {table}.error_message, {table}.error_stack, {table}.input_tokens, {table}.output_tokens, {table}.cached_tokens, " +
        $"{table}.reasoning_tokens, {table}.total_tokens, {table}.cost_nanos, {table}.tags, {table}.metadata, {table}.user_id, {table}.source, " +
        $"{table}.pinned, {table}.created_at, {table}.updated_at";

    /// <summary>The text id of the session a row of <paramref name="table"/> (runs or events) refers to by key, or NULL.</summary>
    public static string SessionIdOf(string table) => $"(SELECT sk.id FROM session_keys sk WHERE sk.key = {table}.session_key)";

    /// <summary>Reads the columns of <see cref="RunColumns"/> starting at <paramref name="o"/>.</summary>
    public static RunRow ReadRun(SqliteDataReader r, int o = 0) => new()
    {
        Seq = r.GetInt64(o),
        Id = StorageUnits.ToGuid((byte[])r.GetValue(o + 1)),
        SessionId = r.IsDBNull(o + 2) ? null : r.GetString(o + 2),
        ParentId = r.IsDBNull(o + 3) ? null : StorageUnits.ToGuid((byte[])r.GetValue(o + 3)),
        Kind = r.GetString(o + 4),
        Name = r.IsDBNull(o + 5) ? null : r.GetString(o + 5),
        Status = r.GetString(o + 6),
        StartedAt = r.GetInt64(o + 7),
        EndedAt = r.IsDBNull(o + 8) ? null : r.GetInt64(o + 8),
        Model = r.IsDBNull(o + 10) ? null : r.GetString(o + 10),
        Provider = r.IsDBNull(o + 11) ? null : r.GetString(o + 11),
        Parameters = r.IsDBNull(o + 12) ? null : r.GetString(o + 12),
        InputHash = r.IsDBNull(o + 13) ? null : (byte[])r.GetValue(o + 13),
        OutputHash = r.IsDBNull(o + 14) ? null : (byte[])r.GetValue(o + 14),
        ErrorType = r.IsDBNull(o + 15) ? null : r.GetString(o + 15),
        ErrorMessage = r.IsDBNull(o + 16) ? null : r.GetString(o + 16),
        ErrorStack = r.IsDBNull(o + 17) ? null : r.GetString(o + 17),
        InputTokens = r.IsDBNull(o + 18) ? null : r.GetInt64(o + 18),
        OutputTokens = r.IsDBNull(o + 19) ? null : r.GetInt64(o + 19),
        CachedTokens = r.IsDBNull(o + 20) ? null : r.GetInt64(o + 20),
        ReasoningTokens = r.IsDBNull(o + 21) ? null : r.GetInt64(o + 21),
        CostNanos = r.IsDBNull(o + 23) ? null : r.GetInt64(o + 23),
        Tags = r.IsDBNull(o + 24) ? null : r.GetString(o + 24),
        Metadata = r.IsDBNull(o + 25) ? null : r.GetString(o + 25),
        UserId = r.IsDBNull(o + 26) ? null : r.GetString(o + 26),
        Source = r.GetString(o + 27),
        Pinned = r.GetInt64(o + 28) != 0,
        CreatedAt = r.GetInt64(o + 29),
        UpdatedAt = r.GetInt64(o + 30),
    };
}
