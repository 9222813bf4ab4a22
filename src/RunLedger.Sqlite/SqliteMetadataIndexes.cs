using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using RunLedger.Core.Query;

namespace RunLedger.Sqlite;

/// <summary>
/// Indexes on single metadata keys of runs (<see cref="SqliteStoreOptions.IndexedMetadataKeys"/>).
/// A filter such as <c>metadata.repository:X</c> otherwise walks runs newest first and reads each
/// one's metadata until a page is full: cheap when X is common among recent runs, a scan of
/// everything since X last ran when it is not. Each index is an SQLite expression index on exactly
/// the extraction the filter compiler writes (<see cref="Extraction"/>), in start-time order, so
/// the planner finds the matching runs in page order (sorting only runs of the same microsecond
/// by id).
/// </summary>
internal static partial class SqliteMetadataIndexes
{
    private const string Prefix = "ix_runs_meta_";

    /// <summary>The JSON path of a key as an SQL string literal (keys are letters, digits, '_', '.' and '-').</summary>
    public static string PathLiteral(string key) => "'$.\"" + CheckedCharacters(key) + "\"'";

    /// <summary>The value of a metadata key of runs, as the filter compiler and the indexes write it.</summary>
    public static string Extraction(string metadataColumn, string key) => $"json_extract({metadataColumn}, {PathLiteral(key)})";

    /// <summary>The index name of a key: readable, and unique because of the hash of the key.</summary>
    public static string IndexName(string key)
    {
        var readable = new string([.. CheckedCharacters(key).Select(c => char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '_')]);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..8];
        return Prefix + (readable.Length > 40 ? readable[..40] : readable) + "_" + hash;
    }

    /// <summary>The statement that makes the index of a key, as SQLite keeps it in sqlite_master (no semicolon).</summary>
    public static string Definition(string key) =>
        $"CREATE INDEX \"{IndexName(key)}\" ON runs(project_id, {Extraction("metadata", key)}, started_at)";

    /// <summary>
    /// Makes the file's metadata indexes exactly those of <paramref name="keys"/>: creates the
    /// missing ones (reading every run once), makes again the ones of an older shape (schema 10
    /// and before ended them at the run id) and drops the ones no longer asked for. Returns how many
    /// indexes it made or dropped.
    /// </summary>
    public static async Task<int> ReconcileAsync(SqliteConnection connection, IReadOnlyList<string> keys, ILogger? logger, CancellationToken cancellationToken)
    {
        var wanted = keys.Distinct(StringComparer.Ordinal).ToDictionary(IndexName, k => k, StringComparer.Ordinal);
        var changes = 0;
        var existing = new Dictionary<string, string?>(StringComparer.Ordinal);
        await using (var list = connection.CreateCommand())
        {
            list.CommandText = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'runs' AND substr(name, 1, length(@prefix)) = @prefix;";
            list.Parameters.AddWithValue("@prefix", Prefix);
            await using var reader = await list.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                existing[reader.GetString(0)] = reader.IsDBNull(1) ? null : reader.GetString(1);
            }
        }

        foreach (var name in existing.Keys.Where(n => !wanted.ContainsKey(n) && IsGeneratedName(n)))
        {
            await ExecuteAsync(connection, $"DROP INDEX \"{name}\";", cancellationToken).ConfigureAwait(false);
            changes++;
            logger?.LogWarning("Dropped the index {Index}: its metadata key is not in RunLedger:Sqlite:IndexedMetadataKeys.", name);
        }

        foreach (var (name, key) in wanted)
        {
            var definition = Definition(key);
            if (existing.TryGetValue(name, out var sql))
            {
                if (string.Equals(sql, definition, StringComparison.Ordinal))
                {
                    continue;
                }

                logger?.LogInformation("Making the index {Index} of metadata key '{Key}' again in the current shape; a large ledger takes a while once.", name, key);
                await ExecuteAsync(connection, $"DROP INDEX \"{name}\";", cancellationToken).ConfigureAwait(false);
            }
            else
            {
                logger?.LogInformation("Indexing metadata key '{Key}' of every run ({Index}); a large ledger takes a while once.", key, name);
            }

            try
            {
                await ExecuteAsync(connection, definition + ";", cancellationToken).ConfigureAwait(false);
                changes++;
            }
            catch (SqliteException ex)
            {
                // Runs written before metadata was checked may hold text SQLite cannot read as
                // JSON; the ledger still opens, and filters on the key work without the index.
                logger?.LogError(ex, "Could not index metadata key '{Key}': {Reason} Filters on it still work, without the index.", key, ex.Message);
            }
        }

        return changes;
    }

    /// <summary>The keys of an option value: comma-separated, trimmed, empty ones dropped.</summary>
    public static IReadOnlyList<string> Parse(string value) =>
        value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Why a key cannot be indexed, or null.</summary>
    public static string? Problem(string key) =>
        key.Length > 64 ? string.Create(CultureInfo.InvariantCulture, $"'{key[..20]}...' is longer than 64 characters")
        : !key.All(FilterColumns.IsMetadataKeyChar) ? $"'{key}' may only hold letters, digits, '_', '.' and '-'"
        : null;

    /// <summary>
    /// The key, once it is known to hold only characters that are safe inside the SQL literal.
    /// (The 64-character limit is the option's; a filter may name a longer key.)
    /// </summary>
    private static string CheckedCharacters(string key) =>
        key.Length > 0 && key.All(FilterColumns.IsMetadataKeyChar)
            ? key
            : throw new ArgumentException($"Metadata key '{key}' may only hold letters, digits, '_', '.' and '-'.", nameof(key));

    /// <summary>True for a name this class makes (anything else in the file is not ours to drop).</summary>
    private static bool IsGeneratedName(string name) => GeneratedName().IsMatch(name);

    [GeneratedRegex("^ix_runs_meta_[a-z0-9_]{1,40}_[0-9a-f]{8}$", RegexOptions.CultureInvariant)]
    private static partial Regex GeneratedName();

    private static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.CommandTimeout = 0;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
