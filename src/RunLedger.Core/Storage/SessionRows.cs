using System.Data.Common;
using RunLedger.Core.Model;

namespace RunLedger.Core.Storage;

/// <summary>Reads a sessions row the way every store selects it (<see cref="Columns"/>, alias <c>s</c>).</summary>
public static class SessionRows
{
    public const string Columns =
        "s.id, s.name, s.started_at, s.ended_at, s.state, s.metadata, s.run_count, s.failed_count, s.input_tokens, s.output_tokens, s.cost_nanos, s.last_run_at, s.created_at, s.updated_at";

    public static Session Read(DbDataReader r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return new Session
        {
            Id = r.GetString(0),
            Name = r.IsDBNull(1) ? null : r.GetString(1),
            StartedAt = r.IsDBNull(2) ? null : StorageUnits.FromMicros(r.GetInt64(2)),
            EndedAt = r.IsDBNull(3) ? null : StorageUnits.FromMicros(r.GetInt64(3)),
            State = r.GetString(4),
            Metadata = r.IsDBNull(5) ? null : new RawJson(r.GetString(5)),
            RunCount = r.GetInt64(6),
            FailedCount = r.GetInt64(7),
            InputTokens = r.GetInt64(8),
            OutputTokens = r.GetInt64(9),
            CostUsd = StorageUnits.FromNanos(r.GetInt64(10)),
            LastRunAt = r.IsDBNull(11) ? null : StorageUnits.FromMicros(r.GetInt64(11)),
            CreatedAt = StorageUnits.FromMicros(r.GetInt64(12)),
            UpdatedAt = StorageUnits.FromMicros(r.GetInt64(13)),
        };
    }
}
