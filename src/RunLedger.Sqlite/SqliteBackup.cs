using System.Globalization;
using Microsoft.Data.Sqlite;
using RunLedger.Core.Storage.Transfer;

namespace RunLedger.Sqlite;

/// <summary>
/// Online backup and restore of a SQLite ledger with SQLite's backup API. A backup reads a
/// consistent snapshot while a server keeps writing (WAL readers do not block the writer) and
/// produces an ordinary database file. It holds the ledger only: the full-text index file beside
/// it (<c>&lt;ledger&gt;.fts</c>) is derived data, rebuilt from the stored bodies after a restore
/// (search works meanwhile, reading bodies). A backup and a restored ledger get a new index token,
/// so an index file that was written for another state of the ledger is never trusted.
/// </summary>
public static class SqliteBackup
{
    private static ReadOnlySpan<byte> Header => "SQLite format 3\0"u8;

    /// <summary>True when <paramref name="path"/> starts with the SQLite file header.</summary>
    public static bool IsSqliteFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        Span<byte> buffer = stackalloc byte[16];
        using var file = File.OpenRead(path);
        return file.ReadAtLeast(buffer, 16, throwOnEndOfStream: false) == 16 && buffer.SequenceEqual(Header);
    }

    /// <summary>
    /// Copies the live database at <paramref name="databasePath"/> into a new file at
    /// <paramref name="destinationPath"/> (written beside it first, then moved into place, so a
    /// failed backup never leaves a half file under the final name).
    /// </summary>
    /// <returns>The size of the backup in bytes.</returns>
    public static async Task<long> BackupAsync(string databasePath, string destinationPath, int busyTimeoutMs, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(databasePath);
        ArgumentException.ThrowIfNullOrEmpty(destinationPath);
        if (!File.Exists(databasePath))
        {
            throw new FileNotFoundException($"There is no SQLite database at {databasePath}.", databasePath);
        }

        var temporary = destinationPath + ".partial";
        File.Delete(temporary);
        try
        {
            await using (var source = await OpenAsync(databasePath, SqliteOpenMode.ReadOnly, busyTimeoutMs, cancellationToken).ConfigureAwait(false))
            {
                await EnsureLedgerAsync(source, databasePath, cancellationToken).ConfigureAwait(false);
                await using var destination = await OpenAsync(temporary, SqliteOpenMode.ReadWriteCreate, busyTimeoutMs, cancellationToken).ConfigureAwait(false);
                source.BackupDatabase(destination);
                await NewIndexTokenAsync(destination, cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(destination, "PRAGMA journal_mode=DELETE;", cancellationToken).ConfigureAwait(false);
            }

            File.Move(temporary, destinationPath, overwrite: true);
            return new FileInfo(destinationPath).Length;
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>
    /// Replaces the content of the database at <paramref name="databasePath"/> with the backup
    /// at <paramref name="backupPath"/>. Stop servers that use the database first.
    /// </summary>
    public static async Task RestoreAsync(string backupPath, string databasePath, int busyTimeoutMs, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(backupPath);
        ArgumentException.ThrowIfNullOrEmpty(databasePath);
        var directory = Path.GetDirectoryName(Path.GetFullPath(databasePath));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        await using var source = await OpenAsync(backupPath, SqliteOpenMode.ReadOnly, busyTimeoutMs, cancellationToken).ConfigureAwait(false);
        await EnsureLedgerAsync(source, backupPath, cancellationToken).ConfigureAwait(false);
        await using (var destination = await OpenAsync(databasePath, SqliteOpenMode.ReadWriteCreate, busyTimeoutMs, cancellationToken).ConfigureAwait(false))
        {
            source.BackupDatabase(destination);
            await NewIndexTokenAsync(destination, cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(destination, "PRAGMA journal_mode=WAL;", cancellationToken).ConfigureAwait(false);
        }

        // The old ledger's index describes other runs: it goes (its token no longer matches
        // anyway), and the store rebuilds it when it next opens the ledger.
        var index = SqliteSearchIndex.PathFor(Path.GetFullPath(databasePath));
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(index + suffix);
        }
    }

    /// <summary>
    /// Gives a copied ledger a token of its own (when its schema has one; an older ledger gets one
    /// from the migration when it is opened), so no index file written for the original is used for it.
    /// </summary>
    private static async Task NewIndexTokenAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        if (await HasTableAsync(connection, "fts_owner", cancellationToken).ConfigureAwait(false))
        {
            await ExecuteAsync(connection, "UPDATE fts_owner SET token = randomblob(16) WHERE id = 1;", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// What the database at <paramref name="databasePath"/> holds, or null when there is no
    /// file or it has no ledger tables yet.
    /// </summary>
    public static async Task<TransferCounts?> CountAsync(string databasePath, int busyTimeoutMs, CancellationToken cancellationToken)
    {
        if (!File.Exists(databasePath) || new FileInfo(databasePath).Length == 0)
        {
            return null;
        }

        await using var connection = await OpenAsync(databasePath, SqliteOpenMode.ReadOnly, busyTimeoutMs, cancellationToken).ConfigureAwait(false);
        if (!await HasTableAsync(connection, "runs", cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return await SqliteTransfer.CountAsync(connection, cancellationToken).ConfigureAwait(false);
    }

    private static async Task EnsureLedgerAsync(SqliteConnection connection, string path, CancellationToken cancellationToken)
    {
        bool ledger;
        try
        {
            ledger = await HasTableAsync(connection, "schema_version", cancellationToken).ConfigureAwait(false)
                && await HasTableAsync(connection, "runs", cancellationToken).ConfigureAwait(false);
        }
        catch (SqliteException e) when (e.SqliteErrorCode == 26)
        {
            throw new InvalidDataException($"{path} is not a SQLite database.", e);
        }

        if (!ledger)
        {
            throw new InvalidDataException($"{path} is a SQLite database but not a RunLedger ledger (it has no runs table).");
        }
    }

    private static async Task<bool> HasTableAsync(SqliteConnection connection, string table, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = @name;";
        command.Parameters.AddWithValue("@name", table);
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! > 0;
    }

    private static async Task<SqliteConnection> OpenAsync(string path, SqliteOpenMode mode, int busyTimeoutMs, CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = mode,
            Pooling = false,
        }.ToString());
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, string.Create(CultureInfo.InvariantCulture, $"PRAGMA busy_timeout={busyTimeoutMs};"), cancellationToken).ConfigureAwait(false);
        return connection;
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
