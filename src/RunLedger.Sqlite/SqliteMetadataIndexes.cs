using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using RunLedger.Core.Query;

namespace RunLedger.Sqlite;

/// <summary>
/// Metadata keys in SQL, and what is left of the per-key indexes of runs
/// (<see cref="SqliteStoreOptions.IndexedMetadataKeys"/>). Schema 11 and before could index single
/// metadata keys with expression indexes (<c>ix_runs_meta_*</c>); since runs refer to their metadata
/// by key (<see cref="SqliteRunMetadata"/>), one index on that key (<c>ix_runs_metadata</c>) serves
/// filters on every metadata key, and those indexes are dropped by the migration to schema 13.
/// The option is still read and checked, so existing configuration starts, but makes nothing.
/// </summary>
internal static partial class SqliteMetadataIndexes
{
    private const string Prefix = "ix_runs_meta_";

    /// <summary>The JSON path of a key as an SQL string literal (keys are letters, digits, '_', '.' and '-').</summary>
    public static string PathLiteral(string key) => "'$.\"" + CheckedCharacters(key) + "\"'";

    /// <summary>The value of a metadata key in the JSON text <paramref name="json"/>, as the filter compiler writes it.</summary>
    public static string Extraction(string json, string key) => $"json_extract({json}, {PathLiteral(key)})";

    /// <summary>Drops the per-key metadata indexes of the file (those this class made, known by their name); returns how many.</summary>
    public static async Task<int> DropAllAsync(SqliteConnection connection, SqliteTransaction transaction, CancellationToken cancellationToken)
    {
        var names = new List<string>();
        await using (var list = connection.CreateCommand())
        {
            list.Transaction = transaction;
            list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'runs' AND substr(name, 1, length(@prefix)) = @prefix;";
            list.Parameters.AddWithValue("@prefix", Prefix);
            await using var reader = await list.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                names.Add(reader.GetString(0));
            }
        }

        var dropped = 0;
        foreach (var name in names.Where(IsGeneratedName))
        {
            dropped++;
            await using var drop = connection.CreateCommand();
            drop.Transaction = transaction;
            drop.CommandText = $"DROP INDEX \"{name}\";";
            await drop.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        return dropped;
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
}
