using System.Text.Json;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;

namespace RunLedger.Core.Storage;

/// <summary>The stored fields of a session a write can change (times in microseconds).</summary>
public sealed record SessionFields(string? Name, long? StartedAt, long? EndedAt, string State, string? Metadata);

/// <summary>An event a store writes for a change it made (time in microseconds, data as JSON).</summary>
public sealed record LedgerEventWrite(string Type, long TimeMicros, string? SessionId, Guid? RunId, string? Name, string? Data, string? IdempotencyKey = null);

/// <summary>
/// The session write semantics every store shares: which fields a write changes, when it is
/// refused, and the session.started / session.updated / session.ended events it records.
/// </summary>
public static class SessionMerge
{
    /// <summary>
    /// Applies <paramref name="write"/> to the stored fields (null when the session is new).
    /// Returns the new fields and their events, or the reason the write is refused.
    /// </summary>
    public static (SessionFields? Fields, IReadOnlyList<LedgerEventWrite> Events, string? Rejection) Apply(SessionFields? stored, SessionWrite write, long receivedMicros)
    {
        ArgumentNullException.ThrowIfNull(write);
        var name = write.Name ?? stored?.Name;
        long? started = write.StartedAt is { } s ? StorageUnits.ToMicros(s) : stored?.StartedAt ?? receivedMicros;
        var ended = write.EndedAt is { } e ? StorageUnits.ToMicros(e) : stored?.EndedAt;
        var state = write.State ?? stored?.State ?? (write.EndedAt is null ? SessionStates.Active : SessionStates.Completed);
        var metadata = write.Metadata?.Text ?? stored?.Metadata;
        if (SessionStates.IsEnded(state) && ended is null)
        {
            ended = Math.Max(started.Value, receivedMicros);
        }

        if (ended < started)
        {
            return (null, [], "endedAt would be before the stored startedAt.");
        }

        var type = stored is null
            ? EventTypes.SessionStarted
            : stored.State != state && SessionStates.IsEnded(state) ? EventTypes.SessionEnded : EventTypes.SessionUpdated;
        var time = type == EventTypes.SessionStarted ? started.Value : type == EventTypes.SessionEnded ? ended ?? receivedMicros : receivedMicros;
        var data = EventData(write.Id, name, state);
        var events = new List<LedgerEventWrite> { new(type, time, write.Id, null, name, data) };
        if (stored is null && SessionStates.IsEnded(state))
        {
            events.Add(new LedgerEventWrite(EventTypes.SessionEnded, ended ?? receivedMicros, write.Id, null, name, data));
        }

        return (new SessionFields(name, started, ended, state, metadata), events, null);
    }

    /// <summary>The session.started event of a session created because a run named it.</summary>
    public static LedgerEventWrite ImplicitStart(string sessionId, long startedAt) =>
        new(EventTypes.SessionStarted, startedAt, sessionId, null, null, EventData(sessionId, null, SessionStates.Active));

    private static string EventData(string id, string? name, string state) =>
        JsonSerializer.Serialize(new SessionEventData(id, name, state), LedgerJson.Options);

    private sealed record SessionEventData(string Id, string? Name, string State);
}
