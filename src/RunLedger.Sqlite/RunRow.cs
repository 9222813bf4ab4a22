using Microsoft.Data.Sqlite;
using RunLedger.Core.Storage;

namespace RunLedger.Sqlite;

/// <summary>A row of the runs table as the writer merges it.</summary>
internal sealed class RunRow
{
    public const string Columns =
        "seq, id, session_id, parent_id, kind, name, status, started_at, ended_at, duration_us, model, provider, parameters, " +
        "input_hash, output_hash, error_type, error_message, error_stack, input_tokens, output_tokens, cached_tokens, " +
        "reasoning_tokens, total_tokens, cost_nanos, tags, metadata, user_id, source, pinned, created_at, updated_at";

    public long Seq { get; set; }

    public Guid Id { get; set; }

    public string? SessionId { get; set; }

    public Guid? ParentId { get; set; }

    public string Kind { get; set; } = "custom";

    public string? Name { get; set; }

    public string Status { get; set; } = "running";

    public long StartedAt { get; set; }

    public long? EndedAt { get; set; }

    public long? DurationUs => EndedAt is { } ended ? Math.Max(0, ended - StartedAt) : null;

    public string? Model { get; set; }

    public string? Provider { get; set; }

    public string? Parameters { get; set; }

    public byte[]? InputHash { get; set; }

    public byte[]? OutputHash { get; set; }

    public string? ErrorType { get; set; }

    public string? ErrorMessage { get; set; }

    public string? ErrorStack { get; set; }

    public long? InputTokens { get; set; }

    public long? OutputTokens { get; set; }

    public long? CachedTokens { get; set; }

    public long? ReasoningTokens { get; set; }

    public long TotalTokens => (InputTokens ?? 0) + (OutputTokens ?? 0);

    public long? CostNanos { get; set; }

    public string? Tags { get; set; }

    public string? Metadata { get; set; }

    public string? UserId { get; set; }

    public string Source { get; set; } = "api";

    public bool Pinned { get; set; }

    public long CreatedAt { get; set; }

    public long UpdatedAt { get; set; }

    public RunRow Clone() => (RunRow)MemberwiseClone();

    /// <summary>Reads the columns of <see cref="Columns"/> starting at <paramref name="o"/>.</summary>
    public static RunRow Read(SqliteDataReader r, int o = 0) => new()
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
