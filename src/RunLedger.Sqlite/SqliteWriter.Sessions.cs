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

        var (fields, events, rejection) = SessionMerge.Apply(exists ? new SessionFields(name, started, ended, state!, metadata) : null, write, context.ReceivedMicros);
        if (fields is null)
        {
            context.Rejected.Add(new RejectedItem("session", -1, write.Id, rejection!));
            return;
        }

        var command = exists ? cmd.UpdateSession : cmd.InsertSession;
        Set(command, "@p", context.ProjectId);
        Set(command, "@id", write.Id);
        Set(command, "@name", fields.Name);
        Set(command, "@started", fields.StartedAt);
        Set(command, "@ended", fields.EndedAt);
        Set(command, "@state", fields.State);
        Set(command, "@metadata", fields.Metadata);
        Set(command, "@now", context.NowMicros);
        command.ExecuteNonQuery();

        foreach (var e in events)
        {
            InsertEvent(context, e.Type, e.TimeMicros, e.SessionId, e.RunId, e.Name, e.Data, null);
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

        static long Failed(RunRow r) => RunMerge.IsError(r) ? 1 : 0;
    }

    private void EnsureSession(BatchContext context, string sessionId, long startedAt)
    {
        if (!context.EnsuredSessions.Add(sessionId))
        {
            return;
        }

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
            var e = SessionMerge.ImplicitStart(sessionId, startedAt);
            InsertEvent(context, e.Type, e.TimeMicros, e.SessionId, e.RunId, e.Name, e.Data, null);
        }
    }

    /// <summary>Adds one run's change to the batch's total for a session; written once per batch.</summary>
    private static void UpdateSessionTotals(BatchContext context, string sessionId, long runs, long failed, long inputTokens, long outputTokens, long cost, long? lastRunAt)
    {
        ref var delta = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(context.SessionDeltas, sessionId, out _);
        delta.Runs += runs;
        delta.Failed += failed;
        delta.InputTokens += inputTokens;
        delta.OutputTokens += outputTokens;
        delta.Cost += cost;
        if (lastRunAt is { } at)
        {
            delta.First = delta.First is { } first ? Math.Min(first, at) : at;
            delta.Last = delta.Last is { } last ? Math.Max(last, at) : at;
        }
    }

    private void FlushSessionTotals(BatchContext context)
    {
        var cmd = Cmd.SessionTotals;
        foreach (var (sessionId, delta) in context.SessionDeltas)
        {
            Set(cmd, "@p", context.ProjectId);
            Set(cmd, "@id", sessionId);
            Set(cmd, "@runs", delta.Runs);
            Set(cmd, "@failed", delta.Failed);
            Set(cmd, "@itok", delta.InputTokens);
            Set(cmd, "@otok", delta.OutputTokens);
            Set(cmd, "@cost", delta.Cost);
            Set(cmd, "@first", delta.First);
            Set(cmd, "@last", delta.Last);
            Set(cmd, "@now", context.NowMicros);
            cmd.ExecuteNonQuery();
        }

        context.SessionDeltas.Clear();
    }

    /// <summary>How one batch changes one session's totals.</summary>
    private struct SessionDelta
    {
        public long Runs;
        public long Failed;
        public long InputTokens;
        public long OutputTokens;
        public long Cost;
        public long? First;
        public long? Last;
    }

    private void WriteClientEvent(BatchContext context, EventWrite write)
    {
        InsertEvent(context, write.Type, StorageUnits.ToMicros(write.Time), write.SessionId, write.RunId, write.Name, write.Data?.Text, write.IdempotencyKey);
        context.Written++;
    }

    private void InsertEvent(BatchContext context, string type, long time, string? sessionId, Guid? runId, string? name, string? data, string? idempotencyKey)
    {
        var insert = BindEvent(context, type, time, sessionId, runId, name);
        insert.Bind(7, data);
        insert.Bind(8, idempotencyKey);
        Inserted(context, insert);
    }

    /// <summary>
    /// The key runs and events refer to session <paramref name="sessionId"/> by, made the first time
    /// the id is named in the project (by a run, a session write or an event; a sessions row is
    /// not made here). Remembered for the rest of the batch: a batch that rolls back forgets it
    /// with everything else it wrote.
    /// </summary>
    private long? SessionKey(BatchContext context, string? sessionId)
    {
        if (sessionId is null)
        {
            return null;
        }

        if (context.SessionKeys.TryGetValue(sessionId, out var known))
        {
            return known;
        }

        var cmd = Cmd;
        cmd.SelectSessionKey.Bind(1, context.ProjectId);
        cmd.SelectSessionKey.Bind(2, sessionId);
        var key = cmd.SelectSessionKey.ExecuteScalarInt64();
        if (key is null)
        {
            cmd.InsertSessionKey.Bind(1, context.ProjectId);
            cmd.InsertSessionKey.Bind(2, sessionId);
            key = cmd.InsertSessionKey.ExecuteInsert()
                ?? throw new InvalidOperationException($"Session '{sessionId}' got no key.");
        }

        context.SessionKeys[sessionId] = key.Value;
        return key;
    }

    /// <summary>A run's event packed by <see cref="SqliteRunEvents"/>: no type of its own, no idempotency key.</summary>
    private void InsertEvent(BatchContext context, long time, string? sessionId, Guid runId, string? name, ReadOnlySpan<byte> packed)
    {
        var insert = BindEvent(context, string.Empty, time, sessionId, runId, name);
        insert.BindBlob(7, packed);
        insert.Bind(8, (string?)null);
        Inserted(context, insert);
    }

    private RawStatement BindEvent(BatchContext context, string type, long time, string? sessionId, Guid? runId, string? name)
    {
        var key = SessionKey(context, sessionId);
        var insert = Cmd.InsertEvent;
        insert.Bind(1, context.ProjectId);
        insert.Bind(2, type);
        insert.Bind(3, time);
        insert.Bind(4, key);
        insert.Bind(5, runId);
        insert.Bind(6, name);
        return insert;
    }

    private static void Inserted(BatchContext context, RawStatement insert)
    {
        if (insert.ExecuteInsert() is { } eventId)
        {
            context.LastEventId = Math.Max(context.LastEventId, eventId);
        }
    }
}
