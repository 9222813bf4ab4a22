using System.Text.Json;
using RunLedger.Core;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Storage;

namespace RunLedger.Sqlite;

internal sealed partial class SqliteWriter
{
    private void WriteSession(BatchContext context, SessionWrite write)
    {
        var cmd = Cmd;
        Set(cmd.SelectSession, "@p", context.ProjectId);
        Set(cmd.SelectSession, "@id", write.Id);
        string? name = null, state = null, metadata = null;
        long? started = null, ended = null;
        var exists = false;
        using (var reader = cmd.SelectSession.ExecuteReader())
        {
            if (reader.Read())
            {
                exists = true;
                name = reader.IsDBNull(0) ? null : reader.GetString(0);
                started = reader.IsDBNull(1) ? null : reader.GetInt64(1);
                ended = reader.IsDBNull(2) ? null : reader.GetInt64(2);
                state = reader.GetString(3);
                metadata = reader.IsDBNull(4) ? null : reader.GetString(4);
            }
        }

        var oldState = state;
        name = write.Name ?? name;
        started = write.StartedAt is { } s ? StorageUnits.ToMicros(s) : started ?? context.ReceivedMicros;
        ended = write.EndedAt is { } e ? StorageUnits.ToMicros(e) : ended;
        state = write.State ?? state ?? (write.EndedAt is null ? SessionStates.Active : SessionStates.Completed);
        metadata = write.Metadata?.Text ?? metadata;
        if (SessionStates.IsEnded(state) && ended is null)
        {
            ended = Math.Max(started.Value, context.ReceivedMicros);
        }

        if (ended < started)
        {
            context.Rejected.Add(new RejectedItem("session", -1, write.Id, "endedAt would be before the stored startedAt."));
            return;
        }

        var command = exists ? cmd.UpdateSession : cmd.InsertSession;
        Set(command, "@p", context.ProjectId);
        Set(command, "@id", write.Id);
        Set(command, "@name", name);
        Set(command, "@started", started);
        Set(command, "@ended", ended);
        Set(command, "@state", state);
        Set(command, "@metadata", metadata);
        Set(command, "@now", context.NowMicros);
        command.ExecuteNonQuery();

        var type = !exists
            ? EventTypes.SessionStarted
            : oldState != state && SessionStates.IsEnded(state) ? EventTypes.SessionEnded : EventTypes.SessionUpdated;
        var time = type == EventTypes.SessionStarted ? started.Value : type == EventTypes.SessionEnded ? ended ?? context.ReceivedMicros : context.ReceivedMicros;
        InsertEvent(context, type, time, write.Id, null, name, JsonSerializer.Serialize(new SessionEventData(write.Id, name, state), LedgerJson.Options), null);
        if (!exists && SessionStates.IsEnded(state))
        {
            InsertEvent(context, EventTypes.SessionEnded, ended ?? context.ReceivedMicros, write.Id, null, name, JsonSerializer.Serialize(new SessionEventData(write.Id, name, state), LedgerJson.Options), null);
        }

        context.Written++;
    }

    /// <summary>Moves a run's contribution to session totals from its old state to its new one.</summary>
    private void ApplyRunToSession(BatchContext context, RunRow? existing, RunRow row)
    {
        if (row.SessionId is { } sessionId)
        {
            EnsureSession(context, sessionId, row.StartedAt);
        }

        if (existing?.SessionId is { } oldSession && oldSession == row.SessionId)
        {
            UpdateSessionTotals(context, oldSession, 0, Failed(row) - Failed(existing), (row.InputTokens ?? 0) - (existing.InputTokens ?? 0),
                (row.OutputTokens ?? 0) - (existing.OutputTokens ?? 0), (row.CostNanos ?? 0) - (existing.CostNanos ?? 0), row.StartedAt);
            return;
        }

        if (existing?.SessionId is { } previous)
        {
            UpdateSessionTotals(context, previous, -1, -Failed(existing), -(existing.InputTokens ?? 0), -(existing.OutputTokens ?? 0), -(existing.CostNanos ?? 0), null);
        }

        if (row.SessionId is { } current)
        {
            UpdateSessionTotals(context, current, 1, Failed(row), row.InputTokens ?? 0, row.OutputTokens ?? 0, row.CostNanos ?? 0, row.StartedAt);
        }

        static long Failed(RunRow r) => WireNames.ParseStatus(r.Status).IsError() ? 1 : 0;
    }

    private void EnsureSession(BatchContext context, string sessionId, long startedAt)
    {
        var cmd = Cmd;
        Set(cmd.InsertSession, "@p", context.ProjectId);
        Set(cmd.InsertSession, "@id", sessionId);
        Set(cmd.InsertSession, "@name", null);
        Set(cmd.InsertSession, "@started", startedAt);
        Set(cmd.InsertSession, "@ended", null);
        Set(cmd.InsertSession, "@state", SessionStates.Active);
        Set(cmd.InsertSession, "@metadata", null);
        Set(cmd.InsertSession, "@now", context.NowMicros);
        if (cmd.InsertSession.ExecuteNonQuery() == 1)
        {
            InsertEvent(context, EventTypes.SessionStarted, startedAt, sessionId, null, null,
                JsonSerializer.Serialize(new SessionEventData(sessionId, null, SessionStates.Active), LedgerJson.Options), null);
        }
    }

    private void UpdateSessionTotals(BatchContext context, string sessionId, long runs, long failed, long inputTokens, long outputTokens, long cost, long? lastRunAt)
    {
        var cmd = Cmd.SessionTotals;
        Set(cmd, "@p", context.ProjectId);
        Set(cmd, "@id", sessionId);
        Set(cmd, "@runs", runs);
        Set(cmd, "@failed", failed);
        Set(cmd, "@itok", inputTokens);
        Set(cmd, "@otok", outputTokens);
        Set(cmd, "@cost", cost);
        Set(cmd, "@last", lastRunAt);
        Set(cmd, "@now", context.NowMicros);
        cmd.ExecuteNonQuery();
    }

    private void WriteClientEvent(BatchContext context, EventWrite write)
    {
        InsertEvent(context, write.Type, StorageUnits.ToMicros(write.Time), write.SessionId, write.RunId, write.Name, write.Data?.Text, write.IdempotencyKey);
        context.Written++;
    }

    private void InsertEvent(BatchContext context, string type, long time, string? sessionId, Guid? runId, string? name, string? data, string? idempotencyKey)
    {
        var cmd = Cmd.InsertEvent;
        Set(cmd, "@p", context.ProjectId);
        Set(cmd, "@type", type);
        Set(cmd, "@time", time);
        Set(cmd, "@session", sessionId);
        Set(cmd, "@run", runId is { } id ? StorageUnits.ToBytes(id) : null);
        Set(cmd, "@name", name);
        Set(cmd, "@data", data);
        Set(cmd, "@key", idempotencyKey);
        if (cmd.ExecuteScalar() is long eventId)
        {
            context.LastEventId = Math.Max(context.LastEventId, eventId);
        }
    }

    private sealed record SessionEventData(string Id, string? Name, string State);
}
