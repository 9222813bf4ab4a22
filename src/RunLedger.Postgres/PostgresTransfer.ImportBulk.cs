using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using RunLedger.Core.Storage.Transfer;

namespace RunLedger.Postgres;

/// <summary>
/// Runs and events of an import page in bulk: one query finds which are there already, then the
/// new and changed rows go in with binary COPY (bodies with one set-based insert), instead of two
/// round trips per record. Same outcome, record for record, as importing them one by one.
/// </summary>
internal sealed partial class PostgresTransfer
{
    private async Task<int> ImportRunsAsync(ImportContext context, List<RunRecord> runs, CancellationToken cancellationToken)
    {
        var projectIds = new long[runs.Count];
        for (var i = 0; i < runs.Count; i++)
        {
            projectIds[i] = await context.ProjectIdAsync(runs[i].Project, cancellationToken).ConfigureAwait(false);
        }

        if (runs.Select((r, i) => (projectIds[i], r.Id)).Distinct().Count() < runs.Count)
        {
            // The same run twice in one page: one by one, so the second sees the first.
            var changed = 0;
            foreach (var run in runs)
            {
                changed += await ImportRunAsync(context, run, cancellationToken).ConfigureAwait(false) ? 1 : 0;
            }

            return changed;
        }

        var stored = new Dictionary<(long, Guid), (long StartedAt, long? UpdatedAt)>();
        await using (var select = new NpgsqlCommand(
            "SELECT i.project_id, i.id, i.started_at, r.updated_at FROM unnest(@p, @ids) AS k(project_id, id) " +
            "JOIN run_ids i ON i.project_id = k.project_id AND i.id = k.id " +
            "LEFT JOIN runs r ON r.project_id = i.project_id AND r.started_at = i.started_at AND r.id = i.id", context.Connection))
        {
            select.Parameters.AddWithValue("p", projectIds);
            select.Parameters.AddWithValue("ids", runs.Select(r => r.Id).ToArray());
            await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                stored[(reader.GetInt64(0), reader.GetGuid(1))] = (reader.GetInt64(2), reader.IsDBNull(3) ? null : reader.GetInt64(3));
            }
        }

        var added = new List<(long ProjectId, RunRecord Run)>();
        var replaced = new List<(long ProjectId, RunRecord Run, long OldStart)>();
        for (var i = 0; i < runs.Count; i++)
        {
            var run = runs[i];
            if (!stored.TryGetValue((projectIds[i], run.Id), out var row))
            {
                added.Add((projectIds[i], run));
            }
            else if (row.UpdatedAt != run.UpdatedAt)
            {
                replaced.Add((projectIds[i], run, row.StartedAt));
            }
        }

        var written = added.Select(a => (a.ProjectId, a.Run)).Concat(replaced.Select(r => (r.ProjectId, r.Run))).ToList();
        if (written.Count == 0)
        {
            return 0;
        }

        foreach (var (_, run) in written)
        {
            await context.EnsurePartitionAsync(_store.Partitions, "runs", run.StartedAt, cancellationToken).ConfigureAwait(false);
        }

        // A changed run is deleted from where it is stored and written again, as one by one.
        await using (var batch = new NpgsqlBatch(context.Connection))
        {
            var payloads = written.SelectMany(w => new[] { w.Run.Input, w.Run.Output }).OfType<PayloadRecord>().ToList();
            if (payloads.Count > 0)
            {
                var command = new NpgsqlBatchCommand(
                    "INSERT INTO payloads (hash, original_size, stored_size, encoding, truncated, data) " +
                    "SELECT * FROM unnest(@h, @size, @stored, @enc, @trunc, @data) ON CONFLICT (hash) DO NOTHING");
                command.Parameters.AddWithValue("h", NpgsqlDbType.Array | NpgsqlDbType.Bytea, payloads.Select(p => p.Key).ToArray());
                command.Parameters.AddWithValue("size", payloads.Select(p => p.OriginalSize).ToArray());
                command.Parameters.AddWithValue("stored", payloads.Select(p => (long)p.Data.Length).ToArray());
                command.Parameters.AddWithValue("enc", payloads.Select(p => (short)p.Encoding).ToArray());
                command.Parameters.AddWithValue("trunc", payloads.Select(p => p.Truncated).ToArray());
                command.Parameters.AddWithValue("data", NpgsqlDbType.Array | NpgsqlDbType.Bytea, payloads.Select(p => p.Data).ToArray());
                batch.BatchCommands.Add(command);
            }

            if (replaced.Count > 0)
            {
                var delete = new NpgsqlBatchCommand(
                    "DELETE FROM runs r USING unnest(@p, @started, @ids) AS d(project_id, started_at, id) " +
                    "WHERE r.project_id = d.project_id AND r.started_at = d.started_at AND r.id = d.id");
                delete.Parameters.AddWithValue("p", replaced.Select(r => r.ProjectId).ToArray());
                delete.Parameters.AddWithValue("started", replaced.Select(r => r.OldStart).ToArray());
                delete.Parameters.AddWithValue("ids", replaced.Select(r => r.Run.Id).ToArray());
                batch.BatchCommands.Add(delete);
                var move = new NpgsqlBatchCommand(
                    "UPDATE run_ids i SET started_at = d.started_at FROM unnest(@p, @started, @ids) AS d(project_id, started_at, id) " +
                    "WHERE i.project_id = d.project_id AND i.id = d.id");
                move.Parameters.AddWithValue("p", replaced.Select(r => r.ProjectId).ToArray());
                move.Parameters.AddWithValue("started", replaced.Select(r => r.Run.StartedAt).ToArray());
                move.Parameters.AddWithValue("ids", replaced.Select(r => r.Run.Id).ToArray());
                batch.BatchCommands.Add(move);
            }

            if (batch.BatchCommands.Count > 0)
            {
                await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        if (added.Count > 0)
        {
            await using var importer = await context.Connection.BeginBinaryImportAsync(
                "COPY run_ids (project_id, id, started_at) FROM STDIN (FORMAT BINARY)", cancellationToken).ConfigureAwait(false);
            foreach (var (projectId, run) in added)
            {
                await importer.StartRowAsync(cancellationToken).ConfigureAwait(false);
                await importer.WriteAsync(projectId, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
                await importer.WriteAsync(run.Id, NpgsqlDbType.Uuid, cancellationToken).ConfigureAwait(false);
                await importer.WriteAsync(run.StartedAt, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
            }

            await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }

        await using (var importer = await context.Connection.BeginBinaryImportAsync(
            $"COPY runs ({RunColumns}) FROM STDIN (FORMAT BINARY)", cancellationToken).ConfigureAwait(false))
        {
            foreach (var (projectId, run) in written)
            {
                await WriteRunRowAsync(importer, projectId, run, SearchVector(run), cancellationToken).ConfigureAwait(false);
            }

            await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }

        return written.Count;
    }

    private static async Task WriteRunRowAsync(NpgsqlBinaryImporter importer, long projectId, RunRecord run, SearchVector? search, CancellationToken cancellationToken)
    {
        await importer.StartRowAsync(cancellationToken).ConfigureAwait(false);
        await importer.WriteAsync(projectId, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
        await importer.WriteAsync(run.Id, NpgsqlDbType.Uuid, cancellationToken).ConfigureAwait(false);
        await Write(importer, run.SessionId, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await Write(importer, run.ParentId, NpgsqlDbType.Uuid, cancellationToken).ConfigureAwait(false);
        await importer.WriteAsync(run.Kind, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await Write(importer, run.Name, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await importer.WriteAsync(run.Status, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await importer.WriteAsync(run.StartedAt, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
        await Write(importer, run.EndedAt, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
        await Write(importer, run.EndedAt is { } ended ? Math.Max(0, ended - run.StartedAt) : (long?)null, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
        await Write(importer, run.Model, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await Write(importer, run.Provider, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await Write(importer, run.Parameters, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await Write(importer, run.Input?.Key, NpgsqlDbType.Bytea, cancellationToken).ConfigureAwait(false);
        await Write(importer, run.Output?.Key, NpgsqlDbType.Bytea, cancellationToken).ConfigureAwait(false);
        await Write(importer, run.ErrorType, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await Write(importer, run.ErrorMessage, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await Write(importer, run.ErrorStack, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await Write(importer, run.InputTokens, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
        await Write(importer, run.OutputTokens, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
        await Write(importer, run.CachedTokens, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
        await Write(importer, run.ReasoningTokens, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
        await importer.WriteAsync((run.InputTokens ?? 0) + (run.OutputTokens ?? 0), NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
        await Write(importer, run.CostNanos, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
        await Write(importer, run.Tags is null ? null : JsonSerializer.Deserialize<string[]>(run.Tags), NpgsqlDbType.Array | NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await Write(importer, run.Metadata, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await Write(importer, PostgresRows.MetadataJson(run.Metadata), NpgsqlDbType.Jsonb, cancellationToken).ConfigureAwait(false);
        await Write(importer, run.UserId, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await importer.WriteAsync(run.Source, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await importer.WriteAsync(run.Pinned, NpgsqlDbType.Boolean, cancellationToken).ConfigureAwait(false);
        await importer.WriteAsync(run.CreatedAt, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
        await importer.WriteAsync(run.UpdatedAt, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
        await PostgresWriter.WriteSearchAsync(importer, search, cancellationToken).ConfigureAwait(false);
    }

    private async Task<int> ImportEventsAsync(ImportContext context, List<EventRecord> events, CancellationToken cancellationToken)
    {
        var projectIds = new long[events.Count];
        for (var i = 0; i < events.Count; i++)
        {
            projectIds[i] = await context.ProjectIdAsync(events[i].Project, cancellationToken).ConfigureAwait(false);
        }

        var present = new HashSet<int>();
        await using (var select = new NpgsqlCommand(
            "SELECT k.n FROM unnest(@p, @ids, @keys) WITH ORDINALITY AS k(project_id, id, idempotency_key, n) " +
            "WHERE EXISTS (SELECT 1 FROM events e WHERE e.project_id = k.project_id AND e.id = k.id) " +
            "OR EXISTS (SELECT 1 FROM event_keys x WHERE x.project_id = k.project_id AND x.idempotency_key = k.idempotency_key)", context.Connection))
        {
            select.Parameters.AddWithValue("p", projectIds);
            select.Parameters.AddWithValue("ids", events.Select(e => e.Id).ToArray());
            select.Parameters.AddWithValue("keys", NpgsqlDbType.Array | NpgsqlDbType.Text, events.Select(e => e.IdempotencyKey).ToArray());
            await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                present.Add((int)reader.GetInt64(0) - 1);
            }
        }

        // Within the page, a later event with an id or key taken by an earlier one is "already there" too.
        var ids = new HashSet<(long, long)>();
        var keys = new HashSet<(long, string)>();
        var added = new List<(long ProjectId, EventRecord Event)>();
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            if (present.Contains(i) || ids.Contains((projectIds[i], e.Id)) || (e.IdempotencyKey is { } seen && keys.Contains((projectIds[i], seen))))
            {
                continue;
            }

            ids.Add((projectIds[i], e.Id));
            if (e.IdempotencyKey is { } key)
            {
                keys.Add((projectIds[i], key));
            }

            added.Add((projectIds[i], e));
        }

        if (added.Count == 0)
        {
            return 0;
        }

        foreach (var (_, e) in added)
        {
            await context.EnsurePartitionAsync(_store.Partitions, "events", e.Time, cancellationToken).ConfigureAwait(false);
        }

        await using (var importer = await context.Connection.BeginBinaryImportAsync(
            "COPY events (id, project_id, type, time, session_id, run_id, name, data, idempotency_key) FROM STDIN (FORMAT BINARY)", cancellationToken).ConfigureAwait(false))
        {
            foreach (var (projectId, e) in added)
            {
                await importer.StartRowAsync(cancellationToken).ConfigureAwait(false);
                await importer.WriteAsync(e.Id, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
                await importer.WriteAsync(projectId, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
                await importer.WriteAsync(e.Type, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                await importer.WriteAsync(e.Time, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
                await Write(importer, e.SessionId, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                await Write(importer, e.RunId, NpgsqlDbType.Uuid, cancellationToken).ConfigureAwait(false);
                await Write(importer, e.Name, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                await Write(importer, e.Data, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                await Write(importer, e.IdempotencyKey, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            }

            await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }

        var keyed = added.Where(a => a.Event.IdempotencyKey is not null).ToList();
        if (keyed.Count > 0)
        {
            await using var importer = await context.Connection.BeginBinaryImportAsync(
                "COPY event_keys (project_id, idempotency_key, event_id) FROM STDIN (FORMAT BINARY)", cancellationToken).ConfigureAwait(false);
            foreach (var (projectId, e) in keyed)
            {
                await importer.StartRowAsync(cancellationToken).ConfigureAwait(false);
                await importer.WriteAsync(projectId, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
                await importer.WriteAsync(e.IdempotencyKey!, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                await importer.WriteAsync(e.Id, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
            }

            await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }

        return added.Count;
    }

    private static Task Write<T>(NpgsqlBinaryImporter importer, T? value, NpgsqlDbType type, CancellationToken cancellationToken)
        where T : class =>
        value is null ? importer.WriteNullAsync(cancellationToken) : importer.WriteAsync(value, type, cancellationToken);

    private static Task Write<T>(NpgsqlBinaryImporter importer, T? value, NpgsqlDbType type, CancellationToken cancellationToken)
        where T : struct =>
        value is { } v ? importer.WriteAsync(v, type, cancellationToken) : importer.WriteNullAsync(cancellationToken);
}
