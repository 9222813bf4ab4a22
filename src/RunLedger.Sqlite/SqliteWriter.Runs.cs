using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Payloads;
using RunLedger.Core.Storage;

namespace RunLedger.Sqlite;

internal sealed partial class SqliteWriter
{
    private void WriteRun(BatchContext context, RunWrite write)
    {
        var cmd = Cmd;
        var idBytes = StorageUnits.ToBytes(write.Id);
        RunRow? existing = null;
        Set(cmd.SelectRun, "@p", context.ProjectId);
        Set(cmd.SelectRun, "@id", idBytes);
        using (var reader = cmd.SelectRun.ExecuteReader())
        {
            if (reader.Read())
            {
                existing = RunRow.Read(reader);
            }
        }

        var row = existing?.Clone() ?? NewRow(context, write);
        var rejection = Merge(row, write);
        if (rejection is not null)
        {
            context.Rejected.Add(new RejectedItem("run", write.Index, write.Id.ToString(), rejection));
            return;
        }

        var bodiesChanged = existing is null;
        if (write.Input is { } input)
        {
            var hash = StorePayload(input.Text);
            bodiesChanged |= existing?.InputHash is null || !hash.AsSpan().SequenceEqual(existing.InputHash);
            row.InputHash = hash;
        }

        if (write.Output is { } output)
        {
            var hash = StorePayload(output.Text);
            bodiesChanged |= existing?.OutputHash is null || !hash.AsSpan().SequenceEqual(existing.OutputHash);
            row.OutputHash = hash;
        }

        bodiesChanged |= existing is not null && !string.Equals(existing.ErrorMessage, row.ErrorMessage, StringComparison.Ordinal);
        row.UpdatedAt = context.NowMicros;

        var command = existing is null ? cmd.InsertRun : cmd.UpdateRun;
        BindRun(command, context.ProjectId, idBytes, row);
        if (existing is null)
        {
            row.Seq = (long)command.ExecuteScalar()!;
        }
        else
        {
            Set(command, "@seq", row.Seq);
            command.ExecuteNonQuery();
        }

        if (bodiesChanged)
        {
            IndexText(row, write, existing is not null);
        }

        ApplyRunToSession(context, existing, row);
        ApplyRunToRollups(context.ProjectId, existing, row);
        WriteRunEvent(context, existing, row);
        context.Written++;
    }

    private static RunRow NewRow(BatchContext context, RunWrite write) => new()
    {
        Id = write.Id,
        Source = context.Batch.Source,
        CreatedAt = context.NowMicros,
        StartedAt = write.StartedAt is { } started
            ? StorageUnits.ToMicros(started)
            : Math.Min(context.ReceivedMicros, write.EndedAt is { } ended ? StorageUnits.ToMicros(ended) : long.MaxValue),
        Kind = (write.Kind ?? (write.Model is null ? RunKind.Custom : RunKind.Llm)).ToWire(),
    };

    /// <summary>Applies the fields a write carries; fields it leaves out keep their stored value.</summary>
    private static string? Merge(RunRow row, RunWrite write)
    {
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
        row.Parameters = write.Parameters?.Text ?? row.Parameters;
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

        row.Metadata = write.Metadata?.Text ?? row.Metadata;
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

    private static void BindRun(Microsoft.Data.Sqlite.SqliteCommand command, long projectId, byte[] id, RunRow row)
    {
        Set(command, "@p", projectId);
        Set(command, "@id", id);
        Set(command, "@session", row.SessionId);
        Set(command, "@parent", row.ParentId is { } parent ? StorageUnits.ToBytes(parent) : null);
        Set(command, "@kind", row.Kind);
        Set(command, "@name", row.Name);
        Set(command, "@status", row.Status);
        Set(command, "@started", row.StartedAt);
        Set(command, "@ended", row.EndedAt);
        Set(command, "@duration", row.DurationUs);
        Set(command, "@model", row.Model);
        Set(command, "@provider", row.Provider);
        Set(command, "@parameters", row.Parameters);
        Set(command, "@input", row.InputHash);
        Set(command, "@output", row.OutputHash);
        Set(command, "@etype", row.ErrorType);
        Set(command, "@emessage", row.ErrorMessage);
        Set(command, "@estack", row.ErrorStack);
        Set(command, "@itok", row.InputTokens);
        Set(command, "@otok", row.OutputTokens);
        Set(command, "@ctok", row.CachedTokens);
        Set(command, "@rtok", row.ReasoningTokens);
        Set(command, "@ttok", row.TotalTokens);
        Set(command, "@cost", row.CostNanos);
        Set(command, "@tags", row.Tags);
        Set(command, "@metadata", row.Metadata);
        Set(command, "@user", row.UserId);
        Set(command, "@source", row.Source);
        Set(command, "@pinned", row.Pinned ? 1 : 0);
        Set(command, "@created", row.CreatedAt);
        Set(command, "@updated", row.UpdatedAt);
    }

    /// <summary>
    /// Stores a body once per SHA-256 of its text. A body already stored is not compressed again.
    /// </summary>
    private byte[] StorePayload(string json)
    {
        var cmd = Cmd;
        var utf8 = Encoding.UTF8.GetBytes(json);
        var hash = SHA256.HashData(utf8);
        if (_payloadOptions.Deduplicate)
        {
            Set(cmd.PayloadExists, "@h", hash);
            if (cmd.PayloadExists.ExecuteScalar() is not null)
            {
                return hash;
            }
        }

        var encoded = PayloadCodec.Encode(utf8, hash, _payloadOptions);
        var key = _payloadOptions.Deduplicate ? encoded.Hash : RandomNumberGenerator.GetBytes(32);
        Set(cmd.InsertPayload, "@h", key);
        Set(cmd.InsertPayload, "@size", encoded.OriginalSize);
        Set(cmd.InsertPayload, "@stored", encoded.Data.Length);
        Set(cmd.InsertPayload, "@enc", (int)encoded.Encoding);
        Set(cmd.InsertPayload, "@trunc", encoded.Truncated ? 1 : 0);
        Set(cmd.InsertPayload, "@data", encoded.Data);
        cmd.InsertPayload.ExecuteNonQuery();
        return key;
    }

    private string? LoadPayloadText(byte[]? hash)
    {
        if (hash is null)
        {
            return null;
        }

        var cmd = Cmd;
        Set(cmd.SelectPayload, "@h", hash);
        using var reader = cmd.SelectPayload.ExecuteReader();
        return reader.Read() ? PayloadCodec.Decode((PayloadEncoding)reader.GetInt32(0), (byte[])reader.GetValue(1)) : null;
    }

    /// <summary>Replaces the run's row in the full-text index with its input, output and error text.</summary>
    private void IndexText(RunRow row, RunWrite write, bool replace)
    {
        var cmd = Cmd;
        if (replace)
        {
            Set(cmd.FtsDelete, "@seq", row.Seq);
            cmd.FtsDelete.ExecuteNonQuery();
        }

        var limit = _storeOptions.MaxIndexedChars;
        var input = write.Input?.Text ?? LoadPayloadText(row.InputHash);
        var output = write.Output?.Text ?? LoadPayloadText(row.OutputHash);
        var text = new StringBuilder();
        if (input is not null)
        {
            text.Append(PayloadText.ExtractSearchText(input, limit));
        }

        if (output is not null)
        {
            text.Append('\n').Append(PayloadText.ExtractSearchText(output, limit));
        }

        if (row.ErrorMessage is not null)
        {
            text.Append('\n').Append(row.ErrorMessage.Length > limit ? row.ErrorMessage[..limit] : row.ErrorMessage);
        }

        if (text.Length == 0)
        {
            return;
        }

        Set(cmd.FtsInsert, "@seq", row.Seq);
        Set(cmd.FtsInsert, "@body", text.ToString());
        cmd.FtsInsert.ExecuteNonQuery();
    }

    private void WriteRunEvent(BatchContext context, RunRow? existing, RunRow row)
    {
        string type;
        long time;
        var status = WireNames.ParseStatus(row.Status);
        if (existing is null || existing.Status != row.Status)
        {
            type = EventTypes.ForStatus(status);
            time = status == RunStatus.Running ? row.StartedAt : row.EndedAt ?? context.ReceivedMicros;
        }
        else
        {
            type = EventTypes.RunUpdated;
            time = context.ReceivedMicros;
        }

        var data = new RunEventData(
            row.Id,
            row.Name,
            row.Kind,
            row.Status,
            row.Model,
            row.ParentId,
            row.DurationUs is { } us ? StorageUnits.MicrosToMillis(us) : null,
            row.CostNanos is { } nanos ? StorageUnits.FromNanos(nanos) : null,
            row.TotalTokens == 0 ? null : row.TotalTokens,
            row.ErrorMessage);
        InsertEvent(context, type, time, row.SessionId, row.Id, row.Name, JsonSerializer.Serialize(data, RunLedger.Core.LedgerJson.Options), null);
    }

    /// <summary>The data of the events the ledger writes for a run: enough for a live view.</summary>
    private sealed record RunEventData(
        Guid Id,
        string? Name,
        string Kind,
        string Status,
        string? Model,
        Guid? ParentId,
        double? DurationMs,
        decimal? CostUsd,
        long? TotalTokens,
        string? Error);
}
