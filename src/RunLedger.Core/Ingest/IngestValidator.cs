using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using RunLedger.Core.Model;

namespace RunLedger.Core.Ingest;

/// <summary>
/// Turns a client's request into a <see cref="WriteBatch"/>. Two kinds of problem:
/// a field over a size limit refuses the whole request (<see cref="IngestRequestException"/>),
/// while a value that makes no sense (an unknown status, an end before the start) rejects only
/// its item, so a bad item never sinks its good neighbours.
/// </summary>
public sealed class IngestValidator
{
    private static readonly DateTimeOffset Earliest = new(1970, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Latest = new(9000, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private const decimal MaxCost = 1_000_000_000m;

    /// <summary>What an event type may hold: ASCII letters and digits and <c>_ . - : /</c>.</summary>
    private static readonly SearchValues<char> EventTypeChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-:/");

    private readonly IngestOptions _options;

    public IngestValidator(IngestOptions options)
    {
        _options = options;
    }

    public ValidatedRequest Validate(IngestRequest request, long projectId, string source, DateTimeOffset receivedAt)
    {
        ArgumentNullException.ThrowIfNull(request);
        var total = (request.Runs?.Count ?? 0) + (request.Events?.Count ?? 0) + (request.Sessions?.Count ?? 0);
        if (total > _options.MaxItemsPerRequest)
        {
            throw new IngestRequestException(
                "$",
                string.Create(CultureInfo.InvariantCulture, $"The request holds {total} items; at most {_options.MaxItemsPerRequest} are accepted at once. Split it into smaller requests."),
                413);
        }

        // Sized for the request at once: a list grown item by item to a request's 1,000 runs
        // allocates about twice its final array on the way.
        var rejected = new List<RejectedItem>();
        var sessions = new List<SessionWrite>(request.Sessions?.Count ?? 0);
        var runs = new List<RunWrite>(request.Runs?.Count ?? 0);
        var events = new List<EventWrite>(request.Events?.Count ?? 0);

        if (request.Sessions is { } sessionPayloads)
        {
            for (var i = 0; i < sessionPayloads.Count; i++)
            {
                var payload = sessionPayloads[i] ?? throw new IngestRequestException(Path("sessions", i), "A session must be an object, not null.");
                CheckSession(payload, i);
                var error = TryBuildSession(payload, out var write);
                if (error is null)
                {
                    sessions.Add(write!);
                }
                else
                {
                    rejected.Add(new RejectedItem("session", i, payload.Id, error));
                }
            }
        }

        if (request.Runs is { } runPayloads)
        {
            for (var i = 0; i < runPayloads.Count; i++)
            {
                var payload = runPayloads[i] ?? throw new IngestRequestException(Path("runs", i), "A run must be an object, not null.");
                CheckRun(payload, i);
                var error = TryBuildRun(payload, i, receivedAt, out var write);
                if (error is null)
                {
                    runs.Add(write!);
                }
                else
                {
                    rejected.Add(new RejectedItem("run", i, payload.Id, error));
                }
            }
        }

        if (request.Events is { } eventPayloads)
        {
            for (var i = 0; i < eventPayloads.Count; i++)
            {
                var payload = eventPayloads[i] ?? throw new IngestRequestException(Path("events", i), "An event must be an object, not null.");
                CheckEvent(payload, i);
                var error = TryBuildEvent(payload, receivedAt, out var write);
                if (error is null)
                {
                    events.Add(write!);
                }
                else
                {
                    rejected.Add(new RejectedItem("event", i, payload.IdempotencyKey, error));
                }
            }
        }

        var batch = new WriteBatch
        {
            ProjectId = projectId,
            Source = source,
            ReceivedAt = receivedAt,
            Sessions = sessions,
            Runs = runs,
            Events = events,
        };
        return new ValidatedRequest(batch, rejected);
    }

    private static string Path(string list, int index, string? field = null) =>
        field is null
            ? string.Create(CultureInfo.InvariantCulture, $"$.{list}[{index}]")
            : string.Create(CultureInfo.InvariantCulture, $"$.{list}[{index}].{field}");

    // ---- size limits: refuse the whole request ----

    private void CheckRun(RunPayload run, int i)
    {
        CheckShort(run.Id, "runs", i, "id");
        CheckShort(run.SessionId, "runs", i, "sessionId");
        CheckShort(run.ParentId, "runs", i, "parentId");
        CheckShort(run.Name, "runs", i, "name");
        CheckShort(run.Model, "runs", i, "model");
        CheckShort(run.Provider, "runs", i, "provider");
        CheckShort(run.UserId, "runs", i, "userId");
        CheckShort(run.Kind, "runs", i, "kind");
        CheckShort(run.Status, "runs", i, "status");
        CheckJson(run.Parameters, _options.MaxMetadataBytes, "runs", i, "parameters");
        CheckJson(run.Metadata, _options.MaxMetadataBytes, "runs", i, "metadata");
        CheckJson(run.Input, _options.MaxBodyFieldBytes, "runs", i, "input");
        CheckJson(run.Output, _options.MaxBodyFieldBytes, "runs", i, "output");
        if (run.Error is { } error)
        {
            CheckShort(error.Type, "runs", i, "error.type");
            CheckLong(error.Message, _options.MaxErrorLength, "runs", i, "error.message");
            CheckLong(error.Stack, _options.MaxErrorLength, "runs", i, "error.stack");
        }

        if (run.Tags is { } tags)
        {
            if (tags.Count > _options.MaxTags)
            {
                throw new IngestRequestException(
                    Path("runs", i, "tags"),
                    string.Create(CultureInfo.InvariantCulture, $"{Path("runs", i, "tags")} has {tags.Count} tags; at most {_options.MaxTags} are allowed."));
            }

            for (var t = 0; t < tags.Count; t++)
            {
                // The field's name is only made for a tag that is too long.
                if (tags[t] is { } tag && tag.Length > _options.MaxShortFieldLength)
                {
                    CheckShort(tag, "runs", i, string.Create(CultureInfo.InvariantCulture, $"tags[{t}]"));
                }
            }
        }
    }

    private void CheckEvent(EventPayload e, int i)
    {
        CheckShort(e.Type, "events", i, "type");
        CheckShort(e.SessionId, "events", i, "sessionId");
        CheckShort(e.RunId, "events", i, "runId");
        CheckShort(e.Name, "events", i, "name");
        CheckShort(e.IdempotencyKey, "events", i, "idempotencyKey");
        CheckJson(e.Data, _options.MaxEventDataBytes, "events", i, "data");
    }

    private void CheckSession(SessionPayload s, int i)
    {
        CheckShort(s.Id, "sessions", i, "id");
        CheckShort(s.Name, "sessions", i, "name");
        CheckShort(s.State, "sessions", i, "state");
        CheckJson(s.Metadata, _options.MaxMetadataBytes, "sessions", i, "metadata");
    }

    private void CheckShort(string? value, string list, int i, string field) =>
        CheckLong(value, _options.MaxShortFieldLength, list, i, field);

    private static void CheckLong(string? value, int max, string list, int i, string field)
    {
        if (value is not null && value.Length > max)
        {
            var path = Path(list, i, field);
            throw new IngestRequestException(
                path,
                string.Create(CultureInfo.InvariantCulture, $"{path} is {value.Length} characters long; at most {max} are allowed."));
        }
    }

    private static void CheckJson(RawJson? value, long maxBytes, string list, int i, string field)
    {
        if (value is null)
        {
            return;
        }

        var bytes = value.Utf8Length;
        if (bytes > maxBytes)
        {
            var path = Path(list, i, field);
            throw new IngestRequestException(
                path,
                string.Create(CultureInfo.InvariantCulture, $"{path} is {bytes} bytes of JSON; at most {maxBytes} are allowed."));
        }
    }

    // ---- meaning: reject only the item ----

    private static string? TryBuildRun(RunPayload p, int index, DateTimeOffset receivedAt, out RunWrite? write)
    {
        write = null;
        Guid id;
        if (p.Id is null)
        {
            id = Guid.CreateVersion7(p.StartedAt ?? receivedAt);
        }
        else if (!Guid.TryParse(p.Id, out id) || id == Guid.Empty)
        {
            return $"id: '{p.Id}' is not a UUID (send a UUID such as a UUIDv7, or leave id out and one is made).";
        }

        Guid? parentId = null;
        if (p.ParentId is not null)
        {
            if (!Guid.TryParse(p.ParentId, out var parent) || parent == Guid.Empty)
            {
                return $"parentId: '{p.ParentId}' is not a UUID.";
            }

            if (parent == id)
            {
                return "parentId: a run cannot be its own parent.";
            }

            parentId = parent;
        }

        RunKind? kind = null;
        if (p.Kind is not null)
        {
            if (!WireNames.TryParseKind(p.Kind, out var k))
            {
                return $"kind: '{p.Kind}' is not one of {string.Join(", ", WireNames.Kinds)}.";
            }

            kind = k;
        }

        RunStatus? status = null;
        if (p.Status is not null)
        {
            if (!WireNames.TryParseStatus(p.Status, out var s))
            {
                return $"status: '{p.Status}' is not one of {string.Join(", ", WireNames.Statuses)}.";
            }

            status = s;
        }

        if (CheckTime(p.StartedAt, "startedAt") is { } startError)
        {
            return startError;
        }

        if (CheckTime(p.EndedAt, "endedAt") is { } endError)
        {
            return endError;
        }

        if (p.StartedAt is { } started && p.EndedAt is { } ended && ended < started)
        {
            return string.Create(CultureInfo.InvariantCulture, $"endedAt ({ended:O}) is before startedAt ({started:O}).");
        }

        if (p.SessionId is not null && CheckIdentifier(p.SessionId, "sessionId") is { } sessionError)
        {
            return sessionError;
        }

        if (p.Usage is { } usage)
        {
            if (usage.InputTokens < 0 || usage.OutputTokens < 0 || usage.CachedTokens < 0 || usage.ReasoningTokens < 0)
            {
                return "usage: token counts cannot be negative.";
            }
        }

        if (p.CostUsd is { } cost && (cost < 0 || cost > MaxCost))
        {
            return string.Create(CultureInfo.InvariantCulture, $"costUsd: {cost} is out of range (0 to {MaxCost}).");
        }

        if (p.Metadata is { } metadata && (metadata.Kind != JsonValueKind.Object || !metadata.IsWellFormed()))
        {
            return "metadata: must be a JSON object such as {\"repository\":\"acme/web\"}.";
        }

        if (p.Tags is { } tags && tags.Exists(string.IsNullOrWhiteSpace))
        {
            return "tags: a tag cannot be empty.";
        }

        write = new RunWrite
        {
            Index = index,
            Id = id,
            SessionId = p.SessionId,
            ParentId = parentId,
            Kind = kind,
            Name = p.Name,
            Status = status,
            StartedAt = p.StartedAt?.ToUniversalTime(),
            EndedAt = p.EndedAt?.ToUniversalTime(),
            Model = p.Model,
            Provider = p.Provider,
            Parameters = NullToAbsent(p.Parameters),
            Input = NullToAbsent(p.Input),
            Output = NullToAbsent(p.Output),
            Error = p.Error is { Type: null, Message: null, Stack: null } ? null : p.Error,
            Usage = p.Usage,
            CostUsd = p.CostUsd,
            Tags = p.Tags is { } sentTags ? DistinctTags(sentTags) : null,
            Metadata = p.Metadata,
            UserId = p.UserId,
        };
        return null;
    }

    private static string? TryBuildEvent(EventPayload p, DateTimeOffset receivedAt, out EventWrite? write)
    {
        write = null;
        if (string.IsNullOrWhiteSpace(p.Type))
        {
            return "type: an event needs a type, such as \"heartbeat\" or \"user_feedback\".";
        }

        if (p.Type.AsSpan().ContainsAnyExcept(EventTypeChars))
        {
            return $"type: '{p.Type}' may only hold letters, digits and _ . - : /";
        }

        if (CheckTime(p.Time, "time") is { } timeError)
        {
            return timeError;
        }

        Guid? runId = null;
        if (p.RunId is not null)
        {
            if (!Guid.TryParse(p.RunId, out var parsed))
            {
                return $"runId: '{p.RunId}' is not a UUID.";
            }

            runId = parsed;
        }

        if (p.SessionId is not null && CheckIdentifier(p.SessionId, "sessionId") is { } sessionError)
        {
            return sessionError;
        }

        if (p.IdempotencyKey is not null && string.IsNullOrWhiteSpace(p.IdempotencyKey))
        {
            return "idempotencyKey: cannot be blank.";
        }

        write = new EventWrite
        {
            Type = p.Type,
            Time = (p.Time ?? receivedAt).ToUniversalTime(),
            SessionId = p.SessionId,
            RunId = runId,
            Name = p.Name,
            Data = NullToAbsent(p.Data),
            IdempotencyKey = p.IdempotencyKey,
        };
        return null;
    }

    private static string? TryBuildSession(SessionPayload p, out SessionWrite? write)
    {
        write = null;
        if (p.Id is null)
        {
            return "id: a session needs an id (any text up to the length limit, e.g. \"nightly-2026-11-21\").";
        }

        if (CheckIdentifier(p.Id, "id") is { } idError)
        {
            return idError;
        }

        if (p.State is not null && !SessionStates.IsKnown(p.State))
        {
            return $"state: '{p.State}' is not one of {string.Join(", ", SessionStates.All)}.";
        }

        if (CheckTime(p.StartedAt, "startedAt") is { } startError)
        {
            return startError;
        }

        if (CheckTime(p.EndedAt, "endedAt") is { } endError)
        {
            return endError;
        }

        if (p.StartedAt is { } started && p.EndedAt is { } ended && ended < started)
        {
            return "endedAt is before startedAt.";
        }

        if (p.Metadata is { } metadata && (metadata.Kind != JsonValueKind.Object || !metadata.IsWellFormed()))
        {
            return "metadata: must be a JSON object.";
        }

        write = new SessionWrite
        {
            Id = p.Id,
            Name = p.Name,
            StartedAt = p.StartedAt?.ToUniversalTime(),
            EndedAt = p.EndedAt?.ToUniversalTime(),
            State = p.State,
            Metadata = p.Metadata,
        };
        return null;
    }

    private static string? CheckTime(DateTimeOffset? time, string field) =>
        time is { } t && (t < Earliest || t > Latest)
            ? string.Create(CultureInfo.InvariantCulture, $"{field}: {t:O} is outside 1970-01-01 .. 9000-01-01.")
            : null;

    private static string? CheckIdentifier(string value, string field)
    {
        if (value.Length == 0 || string.IsNullOrWhiteSpace(value))
        {
            return $"{field}: cannot be empty.";
        }

        foreach (var c in value)
        {
            if (char.IsControl(c))
            {
                return $"{field}: cannot hold control characters.";
            }
        }

        return null;
    }

    /// <summary>
    /// The tags without repeats, first occurrence first (as <c>Distinct</c> with ordinal
    /// comparison gives them), without a hash set: a run holds at most
    /// <see cref="IngestOptions.MaxTags"/> tags, usually a handful, and this runs for every run.
    /// </summary>
    private static string[] DistinctTags(List<string> tags)
    {
        var distinct = tags.Count;
        for (var t = 1; t < tags.Count; t++)
        {
            if (tags.IndexOf(tags[t], 0, t) >= 0)
            {
                distinct--;
            }
        }

        if (distinct == tags.Count)
        {
            return [.. tags];
        }

        var result = new string[distinct];
        var at = 0;
        for (var t = 0; t < tags.Count; t++)
        {
            if (tags.IndexOf(tags[t], 0, t) < 0)
            {
                result[at++] = tags[t];
            }
        }

        return result;
    }

    private static RawJson? NullToAbsent(RawJson? value) => value is { Kind: JsonValueKind.Null } ? null : value;
}
