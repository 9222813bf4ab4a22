using Microsoft.Data.Sqlite;
using RunLedger.Core.Storage;

namespace RunLedger.Sqlite;

/// <summary>Reads rows of the runs table into <see cref="RunRow"/>.</summary>
internal static class SqliteRows
{
    /// <summary>
    /// The columns <see cref="ReadRun"/> reads from the runs table aliased <paramref name="r"/>, which
    /// must come from <see cref="RunsFrom"/>: the session's text id, the metadata, parameters and tags are read through their keys.
    /// </summary>
    public static string RunColumnsOf(string r) =>
        $"{r}.seq, {r}.id, {r}_sk.id, {r}.parent_id, {r}.kind, {r}.name, {r}.status, {r}.started_at, " +
        $"{r}.ended_at, {r}.duration_us, {r}.model, {r}.provider, {SqliteRunValues.Parameters.JsonOf(r)}, {r}.input_payload, {r}.output_payload, " +
        $"{r}.error_type, {r}.error_message, {r}.error_stack, {r}.input_tokens, {r}.output_tokens, {r}.cached_tokens, " +
        $"{r}.reasoning_tokens, {r}.total_tokens, {r}.cost_nanos, {SqliteRunValues.Tags.JsonOf(r)}, {SqliteRunValues.Metadata.JsonOf(r)}, {r}.user_id, {r}.source, " +
        $"{r}.pinned, {r}.created_at, {r}.updated_at";

    /// <summary>
    /// <c>runs</c> aliased <paramref name="r"/> with its session key joined to the text id and its
    /// metadata, parameters and tags keys to their text (joins by rowid: about a third of a microsecond per row
    /// cheaper than a subquery in the select list).
    /// </summary>
    /// <param name="r">The alias.</param>
    /// <param name="byRowidOnly">
    /// <c>NOT INDEXED</c>: SQLite reaches the rows through their sequence numbers (a range of
    /// them) and no index, whatever its statistics say.
    /// </param>
    public static string RunsFrom(string r, bool byRowidOnly = false) =>
        $"runs {r}{(byRowidOnly ? " NOT INDEXED" : "")} LEFT JOIN session_keys {r}_sk ON {r}_sk.key = {r}.session_key {ValueJoins(r)}";

    /// <summary>The joins of <see cref="SqliteRunValues.All"/> (metadata, parameters and tags text by key) to runs aliased <paramref name="r"/>.</summary>
    public static string ValueJoins(string r) => string.Join(' ', SqliteRunValues.All.Select(v => v.Join(r)));

    /// <summary><c>events</c> aliased <paramref name="e"/> with its session key joined (the text id is <c>{e}_sk.id</c>).</summary>
    public static string EventsFrom(string e) => $"events {e} LEFT JOIN session_keys {e}_sk ON {e}_sk.key = {e}.session_key";

    /// <summary>The text id of the session a row of <paramref name="table"/> (runs or events) refers to by key, or NULL, as a subquery.</summary>
    public static string SessionIdOf(string table) => $"(SELECT sk.id FROM session_keys sk WHERE sk.key = {table}.session_key)";

    /// <summary>Reads the columns of <see cref="RunColumnsOf"/> starting at <paramref name="o"/>.</summary>
    public static RunRow ReadRun(SqliteDataReader r, int o = 0) => new()
    {
        Seq = r.GetInt64(o),
        Id = StorageUnits.ToGuid((byte[])r.GetValue(o + 1)),
        SessionId = r.IsDBNull(o + 2) ? null : r.GetString(o + 2),
        ParentId = r.IsDBNull(o + 3) ? null : StorageUnits.ToGuid((byte[])r.GetValue(o + 3)),
        Kind = r.GetString(o + 4),
        Name = r.IsDBNull(o + 5) ? null : r.GetString(o + 5),
        Status = r.GetString(o + 6),
        StartedAt = r.GetInt64(o + 7),
        EndedAt = r.IsDBNull(o + 8) ? null : r.GetInt64(o + 8),
        Model = r.IsDBNull(o + 10) ? null : r.GetString(o + 10),
        Provider = r.IsDBNull(o + 11) ? null : r.GetString(o + 11),
        Parameters = r.IsDBNull(o + 12) ? null : r.GetString(o + 12),
        InputPayload = r.IsDBNull(o + 13) ? null : r.GetInt64(o + 13),
        OutputPayload = r.IsDBNull(o + 14) ? null : r.GetInt64(o + 14),
        ErrorType = r.IsDBNull(o + 15) ? null : r.GetString(o + 15),
        ErrorMessage = r.IsDBNull(o + 16) ? null : r.GetString(o + 16),
        ErrorStack = r.IsDBNull(o + 17) ? null : r.GetString(o + 17),
        InputTokens = r.IsDBNull(o + 18) ? null : r.GetInt64(o + 18),
        OutputTokens = r.IsDBNull(o + 19) ? null : r.GetInt64(o + 19),
        CachedTokens = r.IsDBNull(o + 20) ? null : r.GetInt64(o + 20),
        ReasoningTokens = r.IsDBNull(o + 21) ? null : r.GetInt64(o + 21),
        CostNanos = r.IsDBNull(o + 23) ? null : r.GetInt64(o + 23),
        Tags = r.IsDBNull(o + 24) ? null : r.GetString(o + 24),
        Metadata = r.IsDBNull(o + 25) ? null : r.GetString(o + 25),
        UserId = r.IsDBNull(o + 26) ? null : r.GetString(o + 26),
        Source = r.GetString(o + 27),
        Pinned = r.GetInt64(o + 28) != 0,
        CreatedAt = r.GetInt64(o + 29),
        UpdatedAt = r.GetInt64(o + 30),
    };
}
