using System.Globalization;
using System.Text;
using System.Text.Json;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;

namespace RunLedger.Core.Storage;

/// <summary>
/// The write semantics every store shares: how a <see cref="RunWrite"/> becomes or updates a
/// <see cref="RunRow"/> (fields it leaves out keep their stored value), which event records the
/// change, and how a row reads back as a <see cref="Run"/>.
/// </summary>
public static class RunMerge
{
    /// <summary>A row for a run not stored yet: start time from the write, else the earlier of receipt and end.</summary>
    public static RunRow NewRow(RunWrite write, string source, long nowMicros, long receivedMicros)
    {
        ArgumentNullException.ThrowIfNull(write);
        return new RunRow
        {
            Id = write.Id,
            Source = source,
            CreatedAt = nowMicros,
            StartedAt = write.StartedAt is { } started
                ? StorageUnits.ToMicros(started)
                : Math.Min(receivedMicros, write.EndedAt is { } ended ? StorageUnits.ToMicros(ended) : long.MaxValue),
            Kind = (write.Kind ?? (write.Model is null ? RunKind.Custom : RunKind.Llm)).ToWire(),
        };
    }

    /// <summary>Applies the fields a write carries; fields it leaves out keep their stored value. Returns why the write is refused, or null.</summary>
    public static string? Merge(RunRow row, RunWrite write)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(write);
        if (write.SessionId is not null)
        {
            row.SessionId = write.SessionId;
        }

        if (write.ParentId is not null)
        {
            row.ParentId = write.ParentId;
        }

        if (write.Kind is { } kind)
        {
            row.Kind = kind.ToWire();
        }

        row.Name = write.Name ?? row.Name;
        if (write.StartedAt is { } started)
        {
            row.StartedAt = StorageUnits.ToMicros(started);
        }

        if (write.EndedAt is { } ended)
        {
            row.EndedAt = StorageUnits.ToMicros(ended);
        }

        row.Model = write.Model ?? row.Model;
        row.Provider = write.Provider ?? row.Provider;
        if (write.Parameters is { } parameters)
        {
            // Kept as sent: the text is made only if something reads it (see RunRow.ParametersJson).
            row.ParametersJson = parameters;
        }
        if (write.Error is { } error)
        {
            row.ErrorType = error.Type ?? row.ErrorType;
            row.ErrorMessage = error.Message ?? row.ErrorMessage;
            row.ErrorStack = error.Stack ?? row.ErrorStack;
        }

        if (write.Usage is { } usage)
        {
            row.InputTokens = usage.InputTokens ?? row.InputTokens;
            row.OutputTokens = usage.OutputTokens ?? row.OutputTokens;
            row.CachedTokens = usage.CachedTokens ?? row.CachedTokens;
            row.ReasoningTokens = usage.ReasoningTokens ?? row.ReasoningTokens;
        }

        if (write.CostUsd is { } cost)
        {
            row.CostNanos = StorageUnits.ToNanos(cost);
        }

        if (write.Tags is { } tags)
        {
            row.Tags = tags.Count == 0 ? null : JsonSerializer.Serialize(tags);
        }

        if (write.Metadata is { } metadata)
        {
            row.MetadataJson = metadata;
        }
        row.UserId = write.UserId ?? row.UserId;

        if (write.Status is { } status)
        {
            row.Status = status.ToWire();
        }
        else if (row.Status == "running" && row.EndedAt is not null)
        {
            // An end time without a status means the run finished; an error says how.
            row.Status = (row.ErrorType ?? row.ErrorMessage) is null ? "succeeded" : "failed";
        }

        if (row.EndedAt is { } end && end < row.StartedAt)
        {
            return string.Create(
                CultureInfo.InvariantCulture,
                $"endedAt ({StorageUnits.FromMicros(end):O}) would be before the stored startedAt ({StorageUnits.FromMicros(row.StartedAt):O}).");
        }

        if (row.ParentId == row.Id)
        {
            return "parentId: a run cannot be its own parent.";
        }

        return null;
    }

    /// <summary>
    /// The event that records a run change: run.started/completed/failed/... when the run is new
    /// or changes status (at its start or end time), run.updated otherwise (at receipt).
    /// </summary>
    public static (string Type, long TimeMicros, string Data) RunEvent(RunRow? existing, RunRow row, long receivedMicros)
    {
        ArgumentNullException.ThrowIfNull(row);
        var (type, time) = RunEventTypeAndTime(existing, row, receivedMicros);
        return (type, time, RunEventData(row.Id, row.Name, RunEventValuesOf(row)));
    }

    /// <summary>The type and time of the event <see cref="RunEvent"/> writes, without its data.</summary>
    public static (string Type, long TimeMicros) RunEventTypeAndTime(RunRow? existing, RunRow row, long receivedMicros)
    {
        ArgumentNullException.ThrowIfNull(row);
        var status = WireNames.ParseStatus(row.Status);
        return existing is null || existing.Status != row.Status
            ? (EventTypes.ForStatus(status), status == RunStatus.Running ? row.StartedAt : row.EndedAt ?? receivedMicros)
            : (EventTypes.RunUpdated, receivedMicros);
    }

    /// <summary>What the data of a run's event is made of besides the run's id and name, as the row holds it now.</summary>
    public static RunEventValues RunEventValuesOf(RunRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return new(row.Kind, row.Status, row.Model, row.ParentId, row.DurationUs, row.CostNanos, row.TotalTokens, row.ErrorMessage);
    }

    /// <summary>
    /// The data of a run's event, as every store returns it: <c>{"id":"RUN-ID","name":"NAME",...}</c>
    /// (<c>"name"</c> left out when the run has none), then the fields of <paramref name="values"/>
    /// in a fixed order, nulls left out. A store may keep the values in any lossless form and make
    /// the data again with this method: it is the one place the data's bytes come from.
    /// </summary>
    public static string RunEventData(Guid runId, string? name, in RunEventValues values)
    {
        // The fields without id and name are serialized once and given the id and name in front
        // (RunEventTail), as the SQLite store of schemas 9 to 11 kept them.
        var tail = JsonSerializer.SerializeToUtf8Bytes(new RunEventFields(
            values.Kind,
            values.Status,
            values.Model,
            values.ParentId,
            values.DurationUs is { } us ? StorageUnits.MicrosToMillis(us) : null,
            values.CostNanos is { } nanos ? StorageUnits.FromNanos(nanos) : null,
            values.TotalTokens == 0 ? null : values.TotalTokens,
            values.Error), LedgerJson.Options);
        RunEventTail.MakeTail(tail);
        return RunEventTail.Restore(Encoding.UTF8.GetString(tail), runId, name)!;
    }

    /// <summary>True when the run counts as an error (failed or timeout).</summary>
    public static bool IsError(RunRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return WireNames.ParseStatus(row.Status).IsError();
    }

    /// <summary>The run a row stands for, with its bodies when they were loaded.</summary>
    public static Run ToRun(RunRow row, RawJson? input = null, RawJson? output = null, PayloadInfo? inputInfo = null, PayloadInfo? outputInfo = null)
    {
        ArgumentNullException.ThrowIfNull(row);
        return new Run
        {
            Id = row.Id,
            SessionId = row.SessionId,
            ParentId = row.ParentId,
            Kind = row.Kind,
            Name = row.Name,
            Status = row.Status,
            StartedAt = StorageUnits.FromMicros(row.StartedAt),
            EndedAt = row.EndedAt is { } ended ? StorageUnits.FromMicros(ended) : null,
            DurationMs = row.DurationUs is { } us ? StorageUnits.MicrosToMillis(us) : null,
            Model = row.Model,
            Provider = row.Provider,
            Parameters = row.Parameters is null ? null : new RawJson(row.Parameters),
            Input = input,
            Output = output,
            Error = (row.ErrorType ?? row.ErrorMessage ?? row.ErrorStack) is null
                ? null
                : new RunError { Type = row.ErrorType, Message = row.ErrorMessage, Stack = row.ErrorStack },
            Usage = new Usage
            {
                InputTokens = row.InputTokens,
                OutputTokens = row.OutputTokens,
                CachedTokens = row.CachedTokens,
                ReasoningTokens = row.ReasoningTokens,
            },
            CostUsd = row.CostNanos is { } nanos ? StorageUnits.FromNanos(nanos) : null,
            Tags = row.Tags is null ? [] : JsonSerializer.Deserialize<string[]>(row.Tags) ?? [],
            Metadata = row.Metadata is null ? null : new RawJson(row.Metadata),
            UserId = row.UserId,
            Source = row.Source,
            Pinned = row.Pinned,
            CreatedAt = StorageUnits.FromMicros(row.CreatedAt),
            UpdatedAt = StorageUnits.FromMicros(row.UpdatedAt),
            InputInfo = inputInfo,
            OutputInfo = outputInfo,
        };
    }

    /// <summary>
    /// The data of the events the ledger writes for a run (enough for a live view) after the run's
    /// id and name, which <see cref="RunEventTail.Restore"/> puts in front. The order and names of
    /// these fields are the bytes every stored run event reads back as: never change them.
    /// </summary>
    private sealed record RunEventFields(
        string Kind,
        string Status,
        string? Model,
        Guid? ParentId,
        double? DurationMs,
        decimal? CostUsd,
        long? TotalTokens,
        string? Error);
}
