namespace RunLedger.Sqlite;

/// <summary>
/// The SQL of the payloads table that the writer and an import share. Runs refer to a body by its
/// row id; a body is found again by its SHA-256 through <c>ix_payloads_hash</c>, an index on the
/// hash's first 8 bytes only (not unique), and the whole hash is compared on the row, so two bodies
/// whose hashes share those bytes are never taken for one another.
/// </summary>
internal static class SqlitePayloads
{
    /// <summary>
    /// The id of the body whose hash is <c>@hash</c> (parameter 1), or no row. The
    /// <c>substr(hash, 1, 8)</c> term is the index's expression, written as it is there, so the
    /// planner reads the index; <c>hash = @hash</c> confirms the match on the row.
    /// </summary>
    public const string FindSql = "SELECT id FROM payloads WHERE substr(hash, 1, 8) = substr(@hash, 1, 8) AND hash = @hash LIMIT 1;";

    /// <summary>Parameters by position: hash, original size, encoding, truncated, data. Inserts a new row even when the hash is stored already (deduplication looks first).</summary>
    public const string InsertSql = "INSERT INTO payloads (hash, original_size, encoding, truncated, data) VALUES (@hash, @size, @encoding, @truncated, @data);";

    /// <summary>What a reader needs of one body (parameter <c>@id</c>): encoding, data, original size, truncated, hash.</summary>
    public const string ReadSql = "SELECT encoding, data, original_size, truncated, hash FROM payloads WHERE id = @id;";
}
