using System.Security.Cryptography;
using System.Text;
using RunLedger.Core.Ingest;
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
                existing = SqliteRows.ReadRun(reader);
            }
        }

        var row = existing?.Clone() ?? RunMerge.NewRow(write, context.Batch.Source, context.NowMicros, context.ReceivedMicros);
        var rejection = RunMerge.Merge(row, write);
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
        _batchRollups.ApplyRun(context.ProjectId, existing, row);
        WriteRunEvent(context, existing, row);
        context.Written++;
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
        var (type, time, data) = RunMerge.RunEvent(existing, row, context.ReceivedMicros);
        InsertEvent(context, type, time, row.SessionId, row.Id, row.Name, data, null);
    }
}
