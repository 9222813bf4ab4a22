using Microsoft.Data.Sqlite;
using RunLedger.Core.Storage;

namespace RunLedger.Sqlite;

/// <summary>Reads rows of the runs table into <see cref="RunRow"/>.</summary>
internal static class SqliteRows
{
    public const string RunColumns =
        "seq, id, session_id, parent_id, kind, name, status, started_at, ended_at, duration_us, model, provider, parameters, " +
        "input_payload, output_payload, error_type, error_message, error_stack, input_tokens, output_tokens, cached_tokens, " +
        "reasoning_tokens, total_tokens, cost_nanos, tags, metadata, user_id, source, pinned, created_at, updated_at";

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
        InputPayload = r.IsDBNull(o + 13) ? null : r.GetInt64(o + 13),
        OutputPayload = r.IsDBNull(o + 14) ? null : r.GetInt64(o + 14),
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
