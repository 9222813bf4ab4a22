using Npgsql;
using NpgsqlTypes;
using RunLedger.Core.Payloads;
using RunLedger.Core.Storage;

namespace RunLedger.Postgres;

internal sealed partial class PostgresWriter
{
    private const string RunInsertColumns =
        "project_id, id, session_id, parent_id, kind, name, status, started_at, ended_at, duration_us, model, provider, parameters, " +
        "input_hash, output_hash, error_type, error_message, error_stack, input_tokens, output_tokens, cached_tokens, reasoning_tokens, total_tokens, " +
        "cost_nanos, tags, metadata, metadata_json, user_id, source, pinned, created_at, updated_at, search";

    private async Task WritePayloadsAsync(NpgsqlConnection connection, BatchContext context, CancellationToken cancellationToken)
    {
        if (context.Payloads.Count == 0)
        {
            return;
        }

        await using var importer = await connection.BeginBinaryImportAsync(
            "COPY payloads (hash, original_size, stored_size, encoding, truncated, data) FROM STDIN (FORMAT BINARY)", cancellationToken).ConfigureAwait(false);
        foreach (var payload in context.Payloads.Values)
        {
            // Brotli per body, without the SQLite store's trained dictionaries: here every replica
            // writes, so a dictionary would have to be agreed on through the database before any
            // replica used it, and TOAST already keeps large values out of line. Left for when
            // PostgreSQL disk use is measured on its own.
            var encoded = PayloadCodec.Encode(payload.Utf8, payload.Hash, _payloadOptions);
            await importer.StartRowAsync(cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(payload.Key, NpgsqlDbType.Bytea, cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync((long)encoded.OriginalSize, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync((long)encoded.Data.Length, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync((short)encoded.Encoding, NpgsqlDbType.Smallint, cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(encoded.Truncated, NpgsqlDbType.Boolean, cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(encoded.Data, NpgsqlDbType.Bytea, cancellationToken).ConfigureAwait(false);
        }

        await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task WriteSessionsAsync(NpgsqlConnection connection, BatchContext context, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection);
        foreach (var (id, session) in context.Sessions)
        {
            if (!session.Dirty)
            {
                continue;
            }

            var command = new NpgsqlBatchCommand(session.Exists
                ? "UPDATE sessions SET name = @name, started_at = @started, ended_at = @ended, state = @state, metadata = @metadata, metadata_json = @json::jsonb, " +
                  "run_count = @runs, failed_count = @failed, input_tokens = @itok, output_tokens = @otok, cost_nanos = @cost, last_run_at = @last, updated_at = @updated " +
                  "WHERE project_id = @p AND id = @id"
                : "INSERT INTO sessions (project_id, id, name, started_at, ended_at, state, metadata, metadata_json, run_count, failed_count, input_tokens, output_tokens, " +
                  "cost_nanos, last_run_at, created_at, updated_at) VALUES (@p, @id, @name, @started, @ended, @state, @metadata, @json::jsonb, @runs, @failed, @itok, @otok, " +
                  "@cost, @last, @created, @updated)");
            var p = command.Parameters;
            p.AddWithValue("p", context.Batch.ProjectId);
            p.AddWithValue("id", id);
            p.AddWithValue("name", NpgsqlDbType.Text, (object?)session.Fields.Name ?? DBNull.Value);
            p.AddWithValue("started", NpgsqlDbType.Bigint, (object?)session.Fields.StartedAt ?? DBNull.Value);
            p.AddWithValue("ended", NpgsqlDbType.Bigint, (object?)session.Fields.EndedAt ?? DBNull.Value);
            p.AddWithValue("state", session.Fields.State);
            p.AddWithValue("metadata", NpgsqlDbType.Text, (object?)session.Fields.Metadata ?? DBNull.Value);
            p.AddWithValue("json", NpgsqlDbType.Text, (object?)PostgresRows.MetadataJson(session.Fields.Metadata) ?? DBNull.Value);
            p.AddWithValue("runs", session.RunCount);
            p.AddWithValue("failed", session.FailedCount);
            p.AddWithValue("itok", session.InputTokens);
            p.AddWithValue("otok", session.OutputTokens);
            p.AddWithValue("cost", session.CostNanos);
            p.AddWithValue("last", NpgsqlDbType.Bigint, (object?)session.LastRunAt ?? DBNull.Value);
            p.AddWithValue("created", session.CreatedAt);
            p.AddWithValue("updated", session.UpdatedAt);
            batch.BatchCommands.Add(command);
        }

        if (batch.BatchCommands.Count > 0)
        {
            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// New runs (and runs whose start time moved them to another month, deleted first) go in with
    /// binary COPY; runs updated in place get one UPDATE each, sent in one round trip. run_ids
    /// follows every start time.
    /// </summary>
    private static async Task WriteRunsAsync(NpgsqlConnection connection, BatchContext context, CancellationToken cancellationToken)
    {
        var projectId = context.Batch.ProjectId;
        var dirty = context.Runs.Values.Where(r => r.Dirty).ToList();
        var copied = dirty.Where(r => r.StoredStartedAt is null || r.Moved).ToList();
        var moved = dirty.Where(r => r.Moved).ToList();
        var inPlace = dirty.Where(r => r.StoredStartedAt is not null && !r.Moved).ToList();

        await using (var batch = new NpgsqlBatch(connection))
        {
            if (moved.Count > 0)
            {
                var delete = new NpgsqlBatchCommand(
                    "DELETE FROM runs r USING unnest(@started, @ids) AS d(started_at, id) WHERE r.project_id = @p AND r.started_at = d.started_at AND r.id = d.id");
                delete.Parameters.AddWithValue("p", projectId);
                delete.Parameters.AddWithValue("started", moved.Select(r => r.StoredStartedAt!.Value).ToArray());
                delete.Parameters.AddWithValue("ids", moved.Select(r => r.Row.Id).ToArray());
                batch.BatchCommands.Add(delete);
                var ids = new NpgsqlBatchCommand(
                    "UPDATE run_ids i SET started_at = d.started_at FROM unnest(@started, @ids) AS d(started_at, id) WHERE i.project_id = @p AND i.id = d.id");
                ids.Parameters.AddWithValue("p", projectId);
                ids.Parameters.AddWithValue("started", moved.Select(r => r.Row.StartedAt).ToArray());
                ids.Parameters.AddWithValue("ids", moved.Select(r => r.Row.Id).ToArray());
                batch.BatchCommands.Add(ids);
            }

            foreach (var pending in inPlace)
            {
                batch.BatchCommands.Add(UpdateCommand(projectId, pending));
            }

            if (batch.BatchCommands.Count > 0)
            {
                await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        if (copied.Count > 0)
        {
            await using (var importer = await connection.BeginBinaryImportAsync($"COPY runs ({RunInsertColumns}) FROM STDIN (FORMAT BINARY)", cancellationToken).ConfigureAwait(false))
            {
                foreach (var pending in copied)
                {
                    await WriteRunRowAsync(importer, projectId, pending, cancellationToken).ConfigureAwait(false);
                }

                await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
            }

            var added = copied.Where(r => r.StoredStartedAt is null).ToList();
            if (added.Count > 0)
            {
                await using var importer = await connection.BeginBinaryImportAsync("COPY run_ids (project_id, id, started_at) FROM STDIN (FORMAT BINARY)", cancellationToken).ConfigureAwait(false);
                foreach (var pending in added)
                {
                    await importer.StartRowAsync(cancellationToken).ConfigureAwait(false);
                    await importer.WriteAsync(projectId, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
                    await importer.WriteAsync(pending.Row.Id, NpgsqlDbType.Uuid, cancellationToken).ConfigureAwait(false);
                    await importer.WriteAsync(pending.Row.StartedAt, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
                }

                await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static NpgsqlBatchCommand UpdateCommand(long projectId, PendingRun pending)
    {
        var command = new NpgsqlBatchCommand(
            "UPDATE runs SET session_id = @session, parent_id = @parent, kind = @kind, name = @name, status = @status, ended_at = @ended, duration_us = @duration, " +
            "model = @model, provider = @provider, parameters = @parameters, input_hash = @input, output_hash = @output, error_type = @etype, error_message = @emessage, " +
            "error_stack = @estack, input_tokens = @itok, output_tokens = @otok, cached_tokens = @ctok, reasoning_tokens = @rtok, total_tokens = @ttok, cost_nanos = @cost, " +
            "tags = @tags, metadata = @metadata, metadata_json = @json::jsonb, user_id = @user, source = @source, pinned = @pinned, updated_at = @updated" +
            (pending.Reindex ? ", search = @search::tsvector" : string.Empty) +
            " WHERE project_id = @p AND started_at = @started AND id = @id");
        var row = pending.Row;
        var p = command.Parameters;
        p.AddWithValue("p", projectId);
        p.AddWithValue("id", row.Id);
        p.AddWithValue("started", row.StartedAt);
        Nullable(p, "session", NpgsqlDbType.Text, row.SessionId);
        Nullable(p, "parent", NpgsqlDbType.Uuid, row.ParentId);
        p.AddWithValue("kind", row.Kind);
        Nullable(p, "name", NpgsqlDbType.Text, row.Name);
        p.AddWithValue("status", row.Status);
        Nullable(p, "ended", NpgsqlDbType.Bigint, row.EndedAt);
        Nullable(p, "duration", NpgsqlDbType.Bigint, row.DurationUs);
        Nullable(p, "model", NpgsqlDbType.Text, row.Model);
        Nullable(p, "provider", NpgsqlDbType.Text, row.Provider);
        Nullable(p, "parameters", NpgsqlDbType.Text, row.Parameters);
        Nullable(p, "input", NpgsqlDbType.Bytea, row.InputHash);
        Nullable(p, "output", NpgsqlDbType.Bytea, row.OutputHash);
        Nullable(p, "etype", NpgsqlDbType.Text, row.ErrorType);
        Nullable(p, "emessage", NpgsqlDbType.Text, row.ErrorMessage);
        Nullable(p, "estack", NpgsqlDbType.Text, row.ErrorStack);
        Nullable(p, "itok", NpgsqlDbType.Bigint, row.InputTokens);
        Nullable(p, "otok", NpgsqlDbType.Bigint, row.OutputTokens);
        Nullable(p, "ctok", NpgsqlDbType.Bigint, row.CachedTokens);
        Nullable(p, "rtok", NpgsqlDbType.Bigint, row.ReasoningTokens);
        p.AddWithValue("ttok", row.TotalTokens);
        Nullable(p, "cost", NpgsqlDbType.Bigint, row.CostNanos);
        Nullable(p, "tags", NpgsqlDbType.Array | NpgsqlDbType.Text, PostgresRows.TagArray(row));
        Nullable(p, "metadata", NpgsqlDbType.Text, row.Metadata);
        Nullable(p, "json", NpgsqlDbType.Text, PostgresRows.MetadataJson(row.Metadata));
        Nullable(p, "user", NpgsqlDbType.Text, row.UserId);
        p.AddWithValue("source", row.Source);
        p.AddWithValue("pinned", row.Pinned);
        p.AddWithValue("updated", row.UpdatedAt);
        if (pending.Reindex)
        {
            Nullable(p, "search", NpgsqlDbType.Text, pending.Search?.ToString());
        }

        return command;
    }

    private static async Task WriteRunRowAsync(NpgsqlBinaryImporter importer, long projectId, PendingRun pending, CancellationToken cancellationToken)
    {
        var row = pending.Row;
        await importer.StartRowAsync(cancellationToken).ConfigureAwait(false);
        await importer.WriteAsync(projectId, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
        await importer.WriteAsync(row.Id, NpgsqlDbType.Uuid, cancellationToken).ConfigureAwait(false);
        await WriteAsync(importer, row.SessionId, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await WriteAsync(importer, row.ParentId, NpgsqlDbType.Uuid, cancellationToken).ConfigureAwait(false);
        await importer.WriteAsync(row.Kind, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await WriteAsync(importer, row.Name, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await importer.WriteAsync(row.Status, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await importer.WriteAsync(row.StartedAt, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
        await WriteAsync(importer, row.EndedAt, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
        await WriteAsync(importer, row.DurationUs, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
        await WriteAsync(importer, row.Model, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await WriteAsync(importer, row.Provider, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await WriteAsync(importer, row.Parameters, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await WriteAsync(importer, row.InputHash, NpgsqlDbType.Bytea, cancellationToken).ConfigureAwait(false);
        await WriteAsync(importer, row.OutputHash, NpgsqlDbType.Bytea, cancellationToken).ConfigureAwait(false);
        await WriteAsync(importer, row.ErrorType, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await WriteAsync(importer, row.ErrorMessage, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await WriteAsync(importer, row.ErrorStack, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await WriteAsync(importer, row.InputTokens, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
        await WriteAsync(importer, row.OutputTokens, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
        await WriteAsync(importer, row.CachedTokens, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
        await WriteAsync(importer, row.ReasoningTokens, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
        await importer.WriteAsync(row.TotalTokens, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
        await WriteAsync(importer, row.CostNanos, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
        await WriteAsync(importer, PostgresRows.TagArray(row), NpgsqlDbType.Array | NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await WriteAsync(importer, row.Metadata, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await WriteAsync(importer, PostgresRows.MetadataJson(row.Metadata), NpgsqlDbType.Jsonb, cancellationToken).ConfigureAwait(false);
        await WriteAsync(importer, row.UserId, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await importer.WriteAsync(row.Source, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await importer.WriteAsync(row.Pinned, NpgsqlDbType.Boolean, cancellationToken).ConfigureAwait(false);
        await importer.WriteAsync(row.CreatedAt, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
        await importer.WriteAsync(row.UpdatedAt, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
        await WriteSearchAsync(importer, pending.Search, cancellationToken).ConfigureAwait(false);
    }

    private static async Task WriteEventsAsync(NpgsqlConnection connection, BatchContext context, long[] ids, CancellationToken cancellationToken)
    {
        if (ids.Length == 0)
        {
            return;
        }

        var projectId = context.Batch.ProjectId;
        await using (var importer = await connection.BeginBinaryImportAsync(
            "COPY events (id, project_id, type, time, session_id, run_id, name, data, idempotency_key) FROM STDIN (FORMAT BINARY)", cancellationToken).ConfigureAwait(false))
        {
            for (var i = 0; i < ids.Length; i++)
            {
                var e = context.Events[i];
                await importer.StartRowAsync(cancellationToken).ConfigureAwait(false);
                await importer.WriteAsync(ids[i], NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
                await importer.WriteAsync(projectId, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
                await importer.WriteAsync(e.Type, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                await importer.WriteAsync(e.TimeMicros, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
                await WriteAsync(importer, e.SessionId, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                await WriteAsync(importer, e.RunId, NpgsqlDbType.Uuid, cancellationToken).ConfigureAwait(false);
                await WriteAsync(importer, e.Name, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                await WriteAsync(importer, e.Data, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                await WriteAsync(importer, e.IdempotencyKey, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            }

            await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }

        var keyed = Enumerable.Range(0, ids.Length).Where(i => context.Events[i].IdempotencyKey is not null).ToList();
        if (keyed.Count > 0)
        {
            await using var importer = await connection.BeginBinaryImportAsync(
                "COPY event_keys (project_id, idempotency_key, event_id) FROM STDIN (FORMAT BINARY)", cancellationToken).ConfigureAwait(false);
            foreach (var i in keyed)
            {
                await importer.StartRowAsync(cancellationToken).ConfigureAwait(false);
                await importer.WriteAsync(projectId, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
                await importer.WriteAsync(context.Events[i].IdempotencyKey!, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                await importer.WriteAsync(ids[i], NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
            }

            await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Writes the search column of a binary COPY row in tsvector's binary form, built directly from the
    /// words (see <see cref="SearchVector.ToBinary"/>). A binary COPY field is its length and the type's
    /// binary bytes, which the server hands to the column type's receive function; the bytes are written
    /// as bytea because Npgsql offers no tsvector value that skips parsing its text form.
    /// </summary>
    internal static Task WriteSearchAsync(NpgsqlBinaryImporter importer, SearchVector? search, CancellationToken cancellationToken) =>
        search is null ? importer.WriteNullAsync(cancellationToken) : importer.WriteAsync(search.ToBinary(), NpgsqlDbType.Bytea, cancellationToken);

    private static Task WriteAsync<T>(NpgsqlBinaryImporter importer, T? value, NpgsqlDbType type, CancellationToken cancellationToken)
        where T : class =>
        value is null ? importer.WriteNullAsync(cancellationToken) : importer.WriteAsync(value, type, cancellationToken);

    private static Task WriteAsync<T>(NpgsqlBinaryImporter importer, T? value, NpgsqlDbType type, CancellationToken cancellationToken)
        where T : struct =>
        value is { } v ? importer.WriteAsync(v, type, cancellationToken) : importer.WriteNullAsync(cancellationToken);

    private static void Nullable(NpgsqlParameterCollection parameters, string name, NpgsqlDbType type, object? value) =>
        parameters.AddWithValue(name, type, value ?? DBNull.Value);
}
