using System.Text.Json;
using Npgsql;
using RunLedger.Core.Model;
using RunLedger.Core.Storage;

namespace RunLedger.Postgres;

/// <summary>Reads rows of the runs, events and sessions tables.</summary>
internal static class PostgresRows
{
    public const string RunColumns =
        "id, session_id, parent_id, kind, name, status, started_at, ended_at, model, provider, parameters, " +
        "input_hash, output_hash, error_type, error_message, error_stack, input_tokens, output_tokens, cached_tokens, " +
        "reasoning_tokens, cost_nanos, tags, metadata, user_id, source, pinned, created_at, updated_at";

    public const string EventColumns = "e.id, e.type, e.time, e.session_id, e.run_id, e.name, e.data, e.idempotency_key";

    public static string Prefixed(string alias) => string.Join(", ", RunColumns.Split(", ").Select(c => alias + "." + c));

    /// <summary>Reads the columns of <see cref="RunColumns"/> starting at <paramref name="o"/>.</summary>
    public static RunRow ReadRun(NpgsqlDataReader r, int o = 0) => new()
    {
        Id = r.GetGuid(o),
        SessionId = r.IsDBNull(o + 1) ? null : r.GetString(o + 1),
        ParentId = r.IsDBNull(o + 2) ? null : r.GetGuid(o + 2),
        Kind = r.GetString(o + 3),
        Name = r.IsDBNull(o + 4) ? null : r.GetString(o + 4),
        Status = r.GetString(o + 5),
        StartedAt = r.GetInt64(o + 6),
        EndedAt = r.IsDBNull(o + 7) ? null : r.GetInt64(o + 7),
        Model = r.IsDBNull(o + 8) ? null : r.GetString(o + 8),
        Provider = r.IsDBNull(o + 9) ? null : r.GetString(o + 9),
        Parameters = r.IsDBNull(o + 10) ? null : r.GetString(o + 10),
        InputHash = r.IsDBNull(o + 11) ? null : r.GetFieldValue<byte[]>(o + 11),
        OutputHash = r.IsDBNull(o + 12) ? null : r.GetFieldValue<byte[]>(o + 12),
        ErrorType = r.IsDBNull(o + 13) ? null : r.GetString(o + 13),
        ErrorMessage = r.IsDBNull(o + 14) ? null : r.GetString(o + 14),
        ErrorStack = r.IsDBNull(o + 15) ? null : r.GetString(o + 15),
        InputTokens = r.IsDBNull(o + 16) ? null : r.GetInt64(o + 16),
        OutputTokens = r.IsDBNull(o + 17) ? null : r.GetInt64(o + 17),
        CachedTokens = r.IsDBNull(o + 18) ? null : r.GetInt64(o + 18),
        ReasoningTokens = r.IsDBNull(o + 19) ? null : r.GetInt64(o + 19),
        CostNanos = r.IsDBNull(o + 20) ? null : r.GetInt64(o + 20),
        Tags = r.IsDBNull(o + 21) ? null : JsonSerializer.Serialize(r.GetFieldValue<string[]>(o + 21)),
        Metadata = r.IsDBNull(o + 22) ? null : r.GetString(o + 22),
        UserId = r.IsDBNull(o + 23) ? null : r.GetString(o + 23),
        Source = r.GetString(o + 24),
        Pinned = r.GetBoolean(o + 25),
        CreatedAt = r.GetInt64(o + 26),
        UpdatedAt = r.GetInt64(o + 27),
    };

    /// <summary>The tags of a row as a text array (null when it has none).</summary>
    public static string[]? TagArray(RunRow row) => row.Tags is null ? null : JsonSerializer.Deserialize<string[]>(row.Tags);

    /// <summary>
    /// The metadata as jsonb text for the indexed column, or null when jsonb cannot hold it (a
    /// \u0000 escape, or the escape of a surrogate without its pair, such as "\ud800": valid JSON
    /// that jsonb refuses, which failed the whole batch): the text is still kept as sent, only
    /// metadata filters miss it.
    /// </summary>
    public static string? MetadataJson(string? metadata) =>
        metadata is null || !JsonbTakes(metadata) ? null : metadata;

    private static bool JsonbTakes(string json)
    {
        if (!json.Contains("\\u", StringComparison.Ordinal))
        {
            return true;
        }

        if (json.Contains("\\u0000", StringComparison.Ordinal))
        {
            return false;
        }

        // An escaped string with a lone surrogate does not decode to a .NET string either.
        var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(json), new JsonReaderOptions { MaxDepth = 100_000 });
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped)
                {
                    _ = reader.GetString();
                }
            }

            return true;
        }
        catch (Exception ex) when (ex is InvalidOperationException or JsonException)
        {
            return false;
        }
    }

    public static LedgerEvent ReadEvent(NpgsqlDataReader r) => new()
    {
        Id = r.GetInt64(0),
        Type = r.GetString(1),
        Time = StorageUnits.FromMicros(r.GetInt64(2)),
        SessionId = r.IsDBNull(3) ? null : r.GetString(3),
        RunId = r.IsDBNull(4) ? null : r.GetGuid(4),
        Name = r.IsDBNull(5) ? null : r.GetString(5),
        Data = r.IsDBNull(6) ? null : new RawJson(r.GetString(6)),
        IdempotencyKey = r.IsDBNull(7) ? null : r.GetString(7),
    };
}
