using System.Buffers;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Payloads;
using RunLedger.Core.Storage;

namespace RunLedger.Sqlite;

internal sealed partial class SqliteWriter
{
    /// <summary>
    /// Encodes the bodies of a batch's runs (hash, truncation, compression) and their search text.
    /// Runs on the submitting thread, in parallel with other submitters and the writer.
    /// </summary>
    public WriteBatch Prepare(WriteBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Runs.Count == 0 || batch.PreparedRuns is not null)
        {
            return batch;
        }

        var prepared = new PreparedBodies[batch.Runs.Count];
        var dictionary = _dictionaries.Current;
        var runs = new RunWrite[batch.Runs.Count];
        for (var i = 0; i < prepared.Length; i++)
        {
            var run = batch.Runs[i];
            var error = run.Error?.Message;
            using var inputUtf8 = BodyUtf8.Of(run.Input);
            using var outputUtf8 = BodyUtf8.Of(run.Output);
            var input = inputUtf8.IsBody ? Encode(inputUtf8, dictionary) : null;
            var output = outputUtf8.IsBody ? Encode(outputUtf8, dictionary) : null;

            // The search text is read from the same UTF-8 bytes that are hashed and stored.
            var text = PayloadText.RunSearchTextAsUtf8(StoredUtf8(inputUtf8, input), StoredUtf8(outputUtf8, output), error, _storeOptions.MaxIndexedChars);
            prepared[i] = new PreparedBodies(input, output, text, error);

            // The batch waits for its group commit (and its search text for the indexer) long
            // enough to outlive the young GC generations; without the sent JSON it holds the
            // compressed bodies only.
            runs[i] = run.Input is null && run.Output is null ? run : run with { Input = null, Output = null };
        }

        return batch with { Runs = runs, PreparedRuns = prepared };
    }

    private EncodedPayload Encode(RawJson json, PayloadDictionary? dictionary) => Encode(Utf8Array(json), dictionary);

    /// <summary>
    /// Encodes a body with the dictionary that was current when its batch was prepared (every
    /// current dictionary is already committed), and offers it to the dictionary trainer.
    /// </summary>
    private EncodedPayload Encode(byte[] utf8, PayloadDictionary? dictionary)
    {
        _trainer.Offer(utf8);
        return PayloadCodec.Encode(utf8, SHA256.HashData(utf8), _payloadOptions, dictionary);
    }

    /// <summary><see cref="Encode(byte[], PayloadDictionary?)"/> of a prepared body: its own array when it has one, else copied only if stored as is.</summary>
    private EncodedPayload Encode(in BodyUtf8 body, PayloadDictionary? dictionary)
    {
        if (body.Array is { } array)
        {
            return Encode(array, dictionary);
        }

        var utf8 = body.Memory.Span;
        _trainer.Offer(utf8);
        return PayloadCodec.Encode(utf8, SHA256.HashData(utf8), _payloadOptions, dictionary);
    }

    /// <summary>The body's UTF-8 bytes: the request's own array when it came from JSON, so nothing is copied.</summary>
    private static byte[] Utf8Array(RawJson json)
    {
        var utf8 = json.Utf8;
        return MemoryMarshal.TryGetArray(utf8, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : utf8.ToArray();
    }

    /// <summary>
    /// What is indexed of a body: the stored head of a truncated one, otherwise the body as sent;
    /// null (not an empty memory, which would be a body) when the run sends none.
    /// </summary>
    private ReadOnlyMemory<byte>? StoredUtf8(in BodyUtf8 sent, EncodedPayload? encoded)
    {
        if (!sent.IsBody)
        {
            return default(ReadOnlyMemory<byte>?);
        }

        return encoded is { Truncated: true } ? PayloadCodec.Utf8Of(encoded.Encoding, encoded.Data, _dictionaries).ToArray() : sent.Memory;
    }

    /// <summary>
    /// A body's UTF-8 bytes while its run is prepared: the request's own array when the body came
    /// from JSON, otherwise (a body made from text, as in-process callers send them) the text
    /// encoded into a buffer from the shared pool, returned once the run is prepared. The bytes
    /// are hashed, compressed and read for search text there and then, so an array of the whole
    /// body per body, dropped a moment later, is not needed; the stored body copies them only
    /// when it keeps them as they are.
    /// </summary>
    private readonly struct BodyUtf8 : IDisposable
    {
        private readonly byte[]? _rented;

        private BodyUtf8(ReadOnlyMemory<byte> memory, byte[]? array, byte[]? rented)
        {
            Memory = memory;
            Array = array;
            _rented = rented;
            IsBody = true;
        }

        /// <summary>False when the run sends no such body.</summary>
        public bool IsBody { get; }

        public ReadOnlyMemory<byte> Memory { get; }

        /// <summary>The bytes as an array of their own that a stored body may keep, or null when they are in a pooled buffer.</summary>
        public byte[]? Array { get; }

        public static BodyUtf8 Of(RawJson? json)
        {
            if (json is null)
            {
                return default;
            }

            if (json.TryGetUtf8(out var held))
            {
                return MemoryMarshal.TryGetArray(held, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
                    ? new BodyUtf8(held, segment.Array, null)
                    : new BodyUtf8(held, null, null);
            }

            var text = json.Text;
            var rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetByteCount(text));
            var length = Encoding.UTF8.GetBytes(text, rented);
            return new BodyUtf8(rented.AsMemory(0, length), null, rented);
        }

        public void Dispose()
        {
            if (_rented is not null)
            {
                ArrayPool<byte>.Shared.Return(_rented);
            }
        }
    }

    private void WriteRun(BatchContext context, RunWrite write, PreparedBodies? prepared)
    {
        var cmd = Cmd;
        // A prepared batch's bodies are the prepared ones (its runs no longer carry the text).
        var inputBody = prepared is not null ? prepared.Input : write.Input is { } sentInput ? Encode(sentInput, _dictionaries.Current) : null;
        var outputBody = prepared is not null ? prepared.Output : write.Output is { } sentOutput ? Encode(sentOutput, _dictionaries.Current) : null;

        // The run row refers to its bodies by row id, so they are stored (or found) first.
        StoredPayload? input = null, output = null;

        // A new run is the common case: insert it outright and fall back to read-merge-update only
        // when the id is already stored (or when the write alone is not a valid new run).
        var fresh = RunMerge.NewRow(write, context.Batch.Source, context.NowMicros, context.ReceivedMicros);
        if (RunMerge.Merge(fresh, write) is null)
        {
            input = StorePayload(inputBody);
            output = StorePayload(outputBody);
            fresh.InputPayload = input?.Id;
            fresh.OutputPayload = output?.Id;
            fresh.UpdatedAt = context.NowMicros;
            var freshKeys = ValueKeys(context, fresh);
            BindNewRun(cmd, context.ProjectId, SessionKey(context, fresh.SessionId), freshKeys, fresh);
            if (cmd.InsertRun.ExecuteInsert() is { } seq)
            {
                fresh.Seq = seq;
                foreach (var values in SqliteRunValues.All)
                {
                    context.CountValue(values, freshKeys[values], +1);
                }

                var text = prepared is { SearchText: { } prepText } && string.Equals(prepared.SearchError, fresh.ErrorMessage, StringComparison.Ordinal) ? prepText : null;
                if (text is not null)
                {
                    context.NewTexts.Add(new PendingText(seq, write.Id, text));
                }

                ApplyRunToSession(context, null, fresh);
                _batchRollups.ApplyRun(context.ProjectId, null, fresh);
                WriteRunEvent(context, null, fresh);
                context.Written++;
                return;
            }
        }

        // The id as a blob for the commands of this rarer path (the insert binds it in place).
        var idBytes = StorageUnits.ToBytes(write.Id);
        RunRow? existing = null;
        var existingKeys = default(RunValueKeys);
        Set(cmd.SelectRun, "@p", context.ProjectId);
        Set(cmd.SelectRun, "@id", idBytes);
        using (var reader = cmd.SelectRun.ExecuteReader())
        {
            if (reader.Read())
            {
                existing = SqliteRows.ReadRun(reader);
                long? Key(int column) => reader.IsDBNull(column) ? null : reader.GetInt64(column);
                existingKeys = new RunValueKeys(Key(Commands.SelectRunValueKeys), Key(Commands.SelectRunValueKeys + 1), Key(Commands.SelectRunValueKeys + 2));
            }
        }

        var row = existing?.Clone() ?? RunMerge.NewRow(write, context.Batch.Source, context.NowMicros, context.ReceivedMicros);
        var rejection = RunMerge.Merge(row, write);
        if (rejection is not null)
        {
            // Bodies stored for the insert that found the run already there go with the rejection.
            ForgetInserted(input);
            ForgetInserted(output);
            context.Rejected.Add(new RejectedItem("run", write.Index, write.Id.ToString(), rejection));
            return;
        }

        if (existing is null)
        {
            // Merge accepted what it refused as a new run a moment ago: cannot happen, but never write half a run.
            throw new InvalidOperationException($"Run {write.Id} could be neither inserted nor updated.");
        }

        var bodiesChanged = false;
        if ((input ??= StorePayload(inputBody)) is { } storedInput)
        {
            bodiesChanged |= existing.InputPayload != storedInput.Id;
            row.InputPayload = storedInput.Id;
        }

        if ((output ??= StorePayload(outputBody)) is { } storedOutput)
        {
            bodiesChanged |= existing.OutputPayload != storedOutput.Id;
            row.OutputPayload = storedOutput.Id;
        }

        bodiesChanged |= !string.Equals(existing.ErrorMessage, row.ErrorMessage, StringComparison.Ordinal);
        row.UpdatedAt = context.NowMicros;

        var keys = ValueKeys(context, row);
        BindRun(cmd.UpdateRun, context.ProjectId, idBytes, SessionKey(context, row.SessionId), keys, row);
        Set(cmd.UpdateRun, "@seq", row.Seq);
        cmd.UpdateRun.ExecuteNonQuery();
        foreach (var values in SqliteRunValues.All)
        {
            if (keys[values] != existingKeys[values])
            {
                context.CountValue(values, existingKeys[values], -1);
                context.CountValue(values, keys[values], +1);
            }
        }

        if (bodiesChanged)
        {
            // Indexed or not yet, the run's old text must not match from now on: search reads it
            // from its bodies until the indexer has replaced its text (and a text queued for it
            // by an earlier group is replaced in the same index transaction).
            MarkTextChanged(row.Seq);
        }

        ApplyRunToSession(context, existing, row);
        _batchRollups.ApplyRun(context.ProjectId, existing, row);
        WriteRunEvent(context, existing, row);
        context.Written++;
    }

    private static void BindRun(Microsoft.Data.Sqlite.SqliteCommand command, long projectId, byte[] id, long? sessionKey, RunValueKeys keys, RunRow row)
    {
        Set(command, "@p", projectId);
        Set(command, "@id", id);
        Set(command, "@session", sessionKey);
        Set(command, "@parent", row.ParentId is { } parent ? StorageUnits.ToBytes(parent) : null);
        Set(command, "@kind", row.Kind);
        Set(command, "@name", row.Name);
        Set(command, "@status", row.Status);
        Set(command, "@started", row.StartedAt);
        Set(command, "@ended", row.EndedAt);
        Set(command, "@duration", row.DurationUs);
        Set(command, "@model", row.Model);
        Set(command, "@provider", row.Provider);
        Set(command, "@parameters", keys.Parameters);
        Set(command, "@input", row.InputPayload);
        Set(command, "@output", row.OutputPayload);
        Set(command, "@etype", row.ErrorType);
        Set(command, "@emessage", row.ErrorMessage);
        Set(command, "@estack", row.ErrorStack);
        Set(command, "@itok", row.InputTokens);
        Set(command, "@otok", row.OutputTokens);
        Set(command, "@ctok", row.CachedTokens);
        Set(command, "@rtok", row.ReasoningTokens);
        Set(command, "@ttok", row.TotalTokens);
        Set(command, "@cost", row.CostNanos);
        Set(command, "@tags", keys.Tags);
        Set(command, "@mkey", keys.Metadata);
        Set(command, "@user", row.UserId);
        Set(command, "@source", row.Source);
        Set(command, "@pinned", row.Pinned ? 1 : 0);
        Set(command, "@created", row.CreatedAt);
        Set(command, "@updated", row.UpdatedAt);
    }

    /// <summary>Binds a new run's row to the insert, in the order of <c>Commands.RunParameters</c>.</summary>
    private static void BindNewRun(Commands cmd, long projectId, long? sessionKey, RunValueKeys keys, RunRow row)
    {
        var s = cmd.InsertRun;
        var at = cmd.InsertRunPositions;
        s.Bind(at[0], projectId);
        s.Bind(at[1], (Guid?)row.Id);
        s.Bind(at[2], sessionKey);
        s.Bind(at[3], row.ParentId);
        s.Bind(at[4], row.Kind);
        s.Bind(at[5], row.Name);
        s.Bind(at[6], row.Status);
        s.Bind(at[7], row.StartedAt);
        s.Bind(at[8], row.EndedAt);
        s.Bind(at[9], row.DurationUs);
        s.Bind(at[10], row.Model);
        s.Bind(at[11], row.Provider);
        s.Bind(at[12], keys.Parameters);
        s.Bind(at[13], row.InputPayload);
        s.Bind(at[14], row.OutputPayload);
        s.Bind(at[15], row.ErrorType);
        s.Bind(at[16], row.ErrorMessage);
        s.Bind(at[17], row.ErrorStack);
        s.Bind(at[18], row.InputTokens);
        s.Bind(at[19], row.OutputTokens);
        s.Bind(at[20], row.CachedTokens);
        s.Bind(at[21], row.ReasoningTokens);
        s.Bind(at[22], row.TotalTokens);
        s.Bind(at[23], row.CostNanos);
        s.Bind(at[24], keys.Tags);
        s.Bind(at[25], keys.Metadata);
        s.Bind(at[26], row.UserId);
        s.Bind(at[27], row.Source);
        s.Bind(at[28], row.Pinned ? 1 : 0);
        s.Bind(at[29], row.CreatedAt);
        s.Bind(at[30], row.UpdatedAt);
    }

    /// <summary>
    /// The row a body is stored in: the row of the same body (same SHA-256) when one is stored and
    /// deduplication is on, otherwise a new row. Null when there is no body.
    /// </summary>
    private StoredPayload? StorePayload(EncodedPayload? encoded)
    {
        if (encoded is null)
        {
            return null;
        }

        var cmd = Cmd;
        if (_payloadOptions.Deduplicate)
        {
            cmd.FindPayload.Bind(1, encoded.Hash);
            if (cmd.FindPayload.ExecuteScalarInt64() is { } found)
            {
                return new StoredPayload(found, Inserted: false);
            }
        }

        // Prepared before the ledger had its dictionary (or in the group that stores it): compress
        // with it now, so only the bodies written before the first sample was complete go without.
        if ((_storingDictionary ?? _dictionaries.Current) is { } dictionary)
        {
            encoded = PayloadCodec.Reencode(encoded, _payloadOptions, dictionary);
        }

        var insert = cmd.InsertPayload;
        insert.Bind(1, encoded.Hash);
        insert.Bind(2, encoded.OriginalSize);
        insert.Bind(3, (int)encoded.Encoding);
        insert.Bind(4, encoded.Truncated ? 1 : 0);
        insert.Bind(5, encoded.Data);
        return new StoredPayload(insert.ExecuteInsert() ?? throw new InvalidOperationException("A body row was not inserted."), Inserted: true);
    }

    /// <summary>Removes a body row this write inserted when the write is rejected after all (no run refers to it).</summary>
    private void ForgetInserted(StoredPayload? stored)
    {
        if (stored is { Inserted: true, Id: var id })
        {
            var cmd = Cmd;
            Set(cmd.DeletePayload, "@id", id);
            cmd.DeletePayload.ExecuteNonQuery();
        }
    }

    private void WriteRunEvent(BatchContext context, RunRow? existing, RunRow row)
    {
        // The run's id and name are in the event's columns; the type and the rest of the data are
        // packed into a few bytes (SqliteRunEvents) and readers make the data again from them.
        var (type, time) = RunMerge.RunEventTypeAndTime(existing, row, context.ReceivedMicros);
        var values = RunMerge.RunEventValuesOf(row);
        _eventData.ResetWrittenCount();
        if (SqliteRunEvents.TryPack(type, values, _eventData))
        {
            InsertEvent(context, time, row.SessionId, row.Id, row.Name, _eventData.WrittenSpan);
        }
        else
        {
            InsertEvent(context, type, time, row.SessionId, row.Id, row.Name, RunMerge.RunEventData(row.Id, row.Name, values), null);
        }
    }

    /// <summary>A body's row, and whether this write inserted it.</summary>
    private readonly record struct StoredPayload(long Id, bool Inserted);
}
