using System.Security.Cryptography;
using System.Text;
using Npgsql;
using RunLedger.Core.Ingest;
using RunLedger.Core.Payloads;
using RunLedger.Core.Rollups;
using RunLedger.Core.Storage;

namespace RunLedger.Postgres;

internal sealed partial class PostgresWriter
{
    private async Task<WriteOutcome> WriteBatchAsync(NpgsqlConnection connection, BatchContext context, CancellationToken cancellationToken)
    {
        var batch = context.Batch;
        var projectId = batch.ProjectId;

        // 1. Read what the batch touches.
        foreach (var row in await PostgresReader.ReadRunsAsync(connection, projectId, batch.Runs.Select(r => r.Id).Distinct().ToArray(), cancellationToken).ConfigureAwait(false))
        {
            context.Runs[row.Id] = new PendingRun(row, row.StartedAt);
        }

        var sessionIds = batch.Sessions.Select(s => s.Id)
            .Concat(batch.Runs.Select(r => r.SessionId))
            .Concat(context.Runs.Values.Select(r => r.Row.SessionId))
            .OfType<string>()
            .Distinct(StringComparer.Ordinal)
            .ToArray();
        await LoadSessionsAsync(connection, context, sessionIds, cancellationToken).ConfigureAwait(false);
        var keys = batch.Events.Select(e => e.IdempotencyKey).OfType<string>().Distinct(StringComparer.Ordinal).ToArray();
        var storedKeys = await LoadEventKeysAsync(connection, projectId, keys, cancellationToken).ConfigureAwait(false);

        // 2. Merge in memory, in the order the SQLite store writes: sessions, runs, client events.
        foreach (var session in batch.Sessions)
        {
            MergeSession(context, session);
        }

        foreach (var run in batch.Runs)
        {
            MergeRun(context, run);
        }

        var batchKeys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in batch.Events)
        {
            if (e.IdempotencyKey is not { } key || (!storedKeys.Contains(key) && batchKeys.Add(key)))
            {
                context.Events.Add(new LedgerEventWrite(e.Type, StorageUnits.ToMicros(e.Time), e.SessionId, e.RunId, e.Name, e.Data?.Text, e.IdempotencyKey));
            }

            context.Written++;
        }

        // 3. Payloads not stored yet, search text of changed runs, event ids, partitions.
        await PreparePayloadsAsync(connection, context, cancellationToken).ConfigureAwait(false);
        await BuildSearchVectorsAsync(connection, context, cancellationToken).ConfigureAwait(false);
        var eventIds = await NextEventIdsAsync(connection, context.Events.Count, cancellationToken).ConfigureAwait(false);
        var months = context.Runs.Values.Where(r => r.Dirty).Select(r => ("runs", Partitions.MonthOf(r.Row.StartedAt)))
            .Concat(context.Events.Select(e => ("events", Partitions.MonthOf(e.TimeMicros))));
        context.CreatedPartitions.AddRange(await _store.Partitions.EnsureAsync(connection, months, cancellationToken).ConfigureAwait(false));

        // 4. Write.
        await WritePayloadsAsync(connection, context, cancellationToken).ConfigureAwait(false);
        await WriteSessionsAsync(connection, context, cancellationToken).ConfigureAwait(false);
        await WriteRunsAsync(connection, context, cancellationToken).ConfigureAwait(false);
        await WriteEventsAsync(connection, context, eventIds, cancellationToken).ConfigureAwait(false);
        return new WriteOutcome(projectId, eventIds.Length == 0 ? 0 : eventIds[^1], context.Written, context.Rejected);
    }

    private void MergeSession(BatchContext context, SessionWrite write)
    {
        context.Sessions.TryGetValue(write.Id, out var stored);
        var (fields, events, rejection) = SessionMerge.Apply(stored?.Fields, write, context.ReceivedMicros);
        if (fields is null)
        {
            context.Rejected.Add(new RejectedItem("session", -1, write.Id, rejection!));
            return;
        }

        if (stored is null)
        {
            stored = new PendingSession(fields, exists: false) { CreatedAt = context.NowMicros };
            context.Sessions[write.Id] = stored;
        }

        stored.Fields = fields;
        stored.UpdatedAt = context.NowMicros;
        stored.Dirty = true;
        context.Events.AddRange(events);
        context.Written++;
    }

    private void MergeRun(BatchContext context, RunWrite write)
    {
        context.Runs.TryGetValue(write.Id, out var pending);
        var existing = pending?.Row;
        var row = existing?.Clone() ?? RunMerge.NewRow(write, context.Batch.Source, context.NowMicros, context.ReceivedMicros);
        var rejection = RunMerge.Merge(row, write);
        if (rejection is not null)
        {
            context.Rejected.Add(new RejectedItem("run", write.Index, write.Id.ToString(), rejection));
            return;
        }

        pending ??= new PendingRun(row, storedStartedAt: null);
        var bodiesChanged = existing is null;
        if (write.Input is { } input)
        {
            var hash = StorePayload(context, input.Text);
            bodiesChanged |= existing?.InputHash is null || !hash.AsSpan().SequenceEqual(existing.InputHash);
            row.InputHash = hash;
        }

        if (write.Output is { } output)
        {
            var hash = StorePayload(context, output.Text);
            bodiesChanged |= existing?.OutputHash is null || !hash.AsSpan().SequenceEqual(existing.OutputHash);
            row.OutputHash = hash;
        }

        bodiesChanged |= existing is not null && !string.Equals(existing.ErrorMessage, row.ErrorMessage, StringComparison.Ordinal);
        row.UpdatedAt = context.NowMicros;
        pending.Row = row;
        pending.Dirty = true;
        pending.Reindex |= bodiesChanged;
        context.Runs[write.Id] = pending;

        ApplyRunToSession(context, existing, row);
        context.Rollups.ApplyRun(context.Batch.ProjectId, existing, row);
        var (type, time, data) = RunMerge.RunEvent(existing, row, context.ReceivedMicros);
        context.Events.Add(new LedgerEventWrite(type, time, row.SessionId, row.Id, row.Name, data));
        context.Written++;
    }

    /// <summary>Moves a run's contribution to session totals from its old state to its new one (as the SQLite store does).</summary>
    private static void ApplyRunToSession(BatchContext context, RunRow? existing, RunRow row)
    {
        if (row.SessionId is { } sessionId && !context.Sessions.ContainsKey(sessionId))
        {
            var start = SessionMerge.ImplicitStart(sessionId, row.StartedAt);
            context.Sessions[sessionId] = new PendingSession(new SessionFields(null, row.StartedAt, null, Core.Model.SessionStates.Active, null), exists: false)
            {
                CreatedAt = context.NowMicros,
                UpdatedAt = context.NowMicros,
                Dirty = true,
            };
            context.Events.Add(start);
        }

        if (existing?.SessionId is { } oldSession && oldSession == row.SessionId)
        {
            Totals(oldSession, 0, Failed(row) - Failed(existing), (row.InputTokens ?? 0) - (existing.InputTokens ?? 0),
                (row.OutputTokens ?? 0) - (existing.OutputTokens ?? 0), (row.CostNanos ?? 0) - (existing.CostNanos ?? 0), row.StartedAt);
            return;
        }

        if (existing?.SessionId is { } previous)
        {
            Totals(previous, -1, -Failed(existing), -(existing.InputTokens ?? 0), -(existing.OutputTokens ?? 0), -(existing.CostNanos ?? 0), null);
        }

        if (row.SessionId is { } current)
        {
            Totals(current, 1, Failed(row), row.InputTokens ?? 0, row.OutputTokens ?? 0, row.CostNanos ?? 0, row.StartedAt);
        }

        static long Failed(RunRow r) => RunMerge.IsError(r) ? 1 : 0;

        void Totals(string sessionId, long runs, long failed, long inputTokens, long outputTokens, long cost, long? lastRunAt)
        {
            if (!context.Sessions.TryGetValue(sessionId, out var session))
            {
                return;
            }

            session.RunCount += runs;
            session.FailedCount += failed;
            session.InputTokens += inputTokens;
            session.OutputTokens += outputTokens;
            session.CostNanos += cost;
            if (lastRunAt is { } last)
            {
                session.LastRunAt = session.LastRunAt is null || session.LastRunAt < last ? last : session.LastRunAt;
                if (session.Fields.StartedAt is null || session.Fields.StartedAt > last)
                {
                    session.Fields = session.Fields with { StartedAt = last };
                }
            }

            session.UpdatedAt = context.NowMicros;
            session.Dirty = true;
        }
    }

    /// <summary>A body's key: its SHA-256 (stored once), or a random key when deduplication is off.</summary>
    private byte[] StorePayload(BatchContext context, string json)
    {
        var utf8 = Encoding.UTF8.GetBytes(json);
        var hash = SHA256.HashData(utf8);
        var key = _payloadOptions.Deduplicate ? hash : RandomNumberGenerator.GetBytes(32);
        var hex = Convert.ToHexStringLower(key);

        // Search what is stored: a body over MaxBodyBytes is kept as a truncation marker with its
        // head, and a re-index from the stored body (or an import) must find the same words.
        context.Texts.TryAdd(hex, PayloadCodec.TruncatedText(utf8, hash, _payloadOptions) ?? json);
        context.Payloads.TryAdd(hex, new PendingPayload(key, hash, utf8));
        return key;
    }

    private async Task PreparePayloadsAsync(NpgsqlConnection connection, BatchContext context, CancellationToken cancellationToken)
    {
        if (context.Payloads.Count == 0 || !_payloadOptions.Deduplicate)
        {
            return;
        }

        await using var command = new NpgsqlCommand("SELECT hash FROM payloads WHERE hash = ANY(@h)", connection);
        command.Parameters.AddWithValue("h", context.Payloads.Values.Select(p => p.Key).ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            context.Payloads.Remove(Convert.ToHexStringLower(reader.GetFieldValue<byte[]>(0)));
        }
    }

    /// <summary>
    /// The search vector of every run whose input, output or error changed (and of runs that move
    /// to another partition): input and output text as the SQLite store indexes it, then the error.
    /// </summary>
    private async Task BuildSearchVectorsAsync(NpgsqlConnection connection, BatchContext context, CancellationToken cancellationToken)
    {
        var reindex = context.Runs.Values.Where(r => r.Dirty && (r.Reindex || r.Moved)).ToList();
        var missing = reindex.SelectMany(r => new[] { r.Row.InputHash, r.Row.OutputHash })
            .OfType<byte[]>()
            .Where(h => !context.Texts.ContainsKey(Convert.ToHexStringLower(h)))
            .ToArray();
        if (missing.Length > 0)
        {
            await using var command = new NpgsqlCommand("SELECT hash, encoding, data FROM payloads WHERE hash = ANY(@h)", connection);
            command.Parameters.AddWithValue("h", missing);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    context.Texts[Convert.ToHexStringLower(reader.GetFieldValue<byte[]>(0))] =
                        PayloadCodec.Decode((PayloadEncoding)reader.GetInt16(1), reader.GetFieldValue<byte[]>(2));
                }
                catch (InvalidDataException)
                {
                    // A damaged stored body must not fail the write: the run is searched by its
                    // other body and its error, as the SQLite store does.
                }
            }
        }

        var limit = _store.Options.MaxIndexedChars;
        foreach (var pending in reindex)
        {
            var row = pending.Row;
            var input = row.InputHash is { } i ? context.Texts.GetValueOrDefault(Convert.ToHexStringLower(i)) : null;
            var output = row.OutputHash is { } o ? context.Texts.GetValueOrDefault(Convert.ToHexStringLower(o)) : null;
            pending.Search = SearchText.ToVector(PayloadText.RunSearchText(input, output, row.ErrorMessage, limit));
            pending.Reindex = true;
        }
    }

    /// <summary>Takes <paramref name="count"/> event ids from the sequence, in ascending order.</summary>
    private static async Task<long[]> NextEventIdsAsync(NpgsqlConnection connection, int count, CancellationToken cancellationToken)
    {
        if (count == 0)
        {
            return [];
        }

        var ids = new List<long>(count);
        await using var command = new NpgsqlCommand("SELECT nextval('events_id_seq') FROM generate_series(1, @n)", connection);
        command.Parameters.AddWithValue("n", count);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            ids.Add(reader.GetInt64(0));
        }

        ids.Sort();
        return [.. ids];
    }

    private static async Task LoadSessionsAsync(NpgsqlConnection connection, BatchContext context, string[] ids, CancellationToken cancellationToken)
    {
        if (ids.Length == 0)
        {
            return;
        }

        await using var command = new NpgsqlCommand(
            "SELECT id, name, started_at, ended_at, state, metadata, run_count, failed_count, input_tokens, output_tokens, cost_nanos, last_run_at, created_at " +
            "FROM sessions WHERE project_id = @p AND id = ANY(@ids)",
            connection);
        command.Parameters.AddWithValue("p", context.Batch.ProjectId);
        command.Parameters.AddWithValue("ids", ids);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var fields = new SessionFields(
                reader.IsDBNull(1) ? null : reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetInt64(2),
                reader.IsDBNull(3) ? null : reader.GetInt64(3),
                reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetString(5));
            context.Sessions[reader.GetString(0)] = new PendingSession(fields, exists: true)
            {
                RunCount = reader.GetInt64(6),
                FailedCount = reader.GetInt64(7),
                InputTokens = reader.GetInt64(8),
                OutputTokens = reader.GetInt64(9),
                CostNanos = reader.GetInt64(10),
                LastRunAt = reader.IsDBNull(11) ? null : reader.GetInt64(11),
                CreatedAt = reader.GetInt64(12),
            };
        }
    }

    private static async Task<HashSet<string>> LoadEventKeysAsync(NpgsqlConnection connection, long projectId, string[] keys, CancellationToken cancellationToken)
    {
        var found = new HashSet<string>(StringComparer.Ordinal);
        if (keys.Length == 0)
        {
            return found;
        }

        await using var command = new NpgsqlCommand("SELECT idempotency_key FROM event_keys WHERE project_id = @p AND idempotency_key = ANY(@k)", connection);
        command.Parameters.AddWithValue("p", projectId);
        command.Parameters.AddWithValue("k", keys);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            found.Add(reader.GetString(0));
        }

        return found;
    }

    /// <summary>State of one batch while it is being merged and written.</summary>
    private sealed class BatchContext(WriteBatch batch, long nowMicros)
    {
        public WriteBatch Batch { get; } = batch;

        public long NowMicros { get; } = nowMicros;

        public long ReceivedMicros { get; } = StorageUnits.ToMicros(batch.ReceivedAt);

        public int Written { get; set; }

        public List<RejectedItem> Rejected { get; } = [];

        public Dictionary<Guid, PendingRun> Runs { get; } = [];

        public Dictionary<string, PendingSession> Sessions { get; } = new(StringComparer.Ordinal);

        public List<LedgerEventWrite> Events { get; } = [];

        /// <summary>Bodies to store, by hex key (those already stored are removed before writing).</summary>
        public Dictionary<string, PendingPayload> Payloads { get; } = new(StringComparer.Ordinal);

        /// <summary>Original text of bodies by hex key, for the search index.</summary>
        public Dictionary<string, string> Texts { get; } = new(StringComparer.Ordinal);

        public RollupDeltas Rollups { get; } = new();

        public List<(string Table, int Month)> CreatedPartitions { get; } = [];
    }

    /// <summary>A run as the batch leaves it, and where it is stored now (null: not stored yet).</summary>
    private sealed class PendingRun(RunRow row, long? storedStartedAt)
    {
        public RunRow Row { get; set; } = row;

        public long? StoredStartedAt { get; } = storedStartedAt;

        public bool Dirty { get; set; }

        public bool Reindex { get; set; }

        public SearchVector? Search { get; set; }

        /// <summary>Its start time changed, so it moves to another partition (deleted and inserted again).</summary>
        public bool Moved => StoredStartedAt is { } stored && stored != Row.StartedAt;
    }

    private sealed class PendingSession(SessionFields fields, bool exists)
    {
        public SessionFields Fields { get; set; } = fields;

        public bool Exists { get; } = exists;

        public bool Dirty { get; set; }

        public long RunCount { get; set; }

        public long FailedCount { get; set; }

        public long InputTokens { get; set; }

        public long OutputTokens { get; set; }

        public long CostNanos { get; set; }

        public long? LastRunAt { get; set; }

        public long CreatedAt { get; set; }

        public long UpdatedAt { get; set; }
    }

    private sealed record PendingPayload(byte[] Key, byte[] Hash, byte[] Utf8);
}
