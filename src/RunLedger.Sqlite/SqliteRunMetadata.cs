using System.Buffers.Binary;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;

namespace RunLedger.Sqlite;

/// <summary>
/// Runs refer to their metadata (and parameters and tags, <see cref="SqliteRunValues"/>) by key:
/// each distinct metadata object of a project is one row of <c>run_metadata</c> (key, project, hash
/// of the text, how many runs refer to it, the JSON text as sent), see
/// <c>Migrations/0013_run_metadata.sql</c> (and <c>run_parameters</c>, <c>run_tags</c>: 0014). The writer and an import find an object
/// again through <c>ix_run_metadata_hash</c> and compare the text on the row, and keep each entry's
/// run count exact (<see cref="Statements.ApplyCounts"/>); a trigger keeps it when runs are deleted.
/// </summary>
internal static class SqliteRunMetadata
{
    /// <summary>The SQL function the migration computes hashes with (registered on the writer connection).</summary>
    public const string HashFunction = "runledger_metadata_hash";

    /// <summary>The hash an entry is found by: the first 8 bytes of the SHA-256 of the text's UTF-8 bytes.</summary>
    public static long Hash(ReadOnlySpan<byte> utf8)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(utf8, digest);
        return BinaryPrimitives.ReadInt64BigEndian(digest);
    }

    /// <summary>Registers <see cref="HashFunction"/> (the migration's hash of a BLOB, same as <see cref="Hash"/>).</summary>
    public static void Register(SqliteConnection connection) =>
        connection.CreateFunction(HashFunction, (byte[]? utf8) => utf8 is null ? (long?)null : Hash(utf8), isDeterministic: true);

    /// <summary>
    /// The statements that find, make and count the entries of one table (<paramref name="values"/>),
    /// prepared on one connection (the writer's, or an import's) and run in its current transaction.
    /// </summary>
    internal sealed class Statements(SqliteConnection connection, SqliteRunValues values) : IDisposable
    {
        // The key of the entry of a project (?1) whose hash is ?2 and whose text is ?3, or no row.
        private readonly RawStatement _find = new(connection, $"SELECT key FROM {values.Table} WHERE project_id = ?1 AND hash = ?2 AND json = ?3 LIMIT 1;");

        // Makes an entry (project ?1, hash ?2, text ?3) with no runs yet.
        private readonly RawStatement _insert = new(connection, $"INSERT INTO {values.Table} (project_id, hash, runs, json) VALUES (?1, ?2, 0, ?3);");

        // Adds ?2 to the run count of entry ?1 and gives the new count.
        private readonly RawStatement _count = new(connection, $"UPDATE {values.Table} SET runs = runs + ?2 WHERE key = ?1 RETURNING runs;");

        // Removes entry ?1 when no run refers to it any more.
        private readonly RawStatement _delete = new(connection, $"DELETE FROM {values.Table} WHERE key = ?1 AND runs <= 0;");

        /// <summary>The key of a project's entry for the metadata text <paramref name="utf8"/>, made when there is none; <paramref name="made"/> tells which.</summary>
        public long KeyOf(long projectId, ReadOnlySpan<byte> utf8, out bool made)
        {
            var hash = Hash(utf8);
            _find.Bind(1, projectId);
            _find.Bind(2, hash);
            _find.BindUtf8(3, utf8);
            if (_find.ExecuteScalarInt64() is { } found)
            {
                made = false;
                return found;
            }

            _insert.Bind(1, projectId);
            _insert.Bind(2, hash);
            _insert.BindUtf8(3, utf8);
            made = true;
            return _insert.ExecuteInsert() ?? throw new InvalidOperationException("A metadata entry was not inserted.");
        }

        /// <summary>
        /// Adds run-count changes to their entries and removes the entries no run refers to any
        /// more (a change of 0 checks an entry made for a run that was not written after all);
        /// returns the keys it removed (null when none).
        /// </summary>
        public List<long>? ApplyCounts(IEnumerable<KeyValuePair<long, long>> deltas)
        {
            List<long>? removed = null;
            foreach (var (key, delta) in deltas)
            {
                _count.Bind(1, key);
                _count.Bind(2, delta);
                if (_count.ExecuteScalarInt64() is <= 0)
                {
                    _delete.Bind(1, key);
                    _delete.ExecuteNonQuery();
                    (removed ??= []).Add(key);
                }
            }

            return removed;
        }

        public void Dispose()
        {
            _find.Dispose();
            _insert.Dispose();
            _count.Dispose();
            _delete.Dispose();
        }
    }

    /// <summary>Compares UTF-8 texts by their bytes; a span looks up an array key without making one.</summary>
    internal sealed class Utf8Comparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
    {
        public static Utf8Comparer Instance { get; } = new();

        public bool Equals(byte[]? x, byte[]? y) => x is null ? y is null : y is not null && x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => GetHashCode(obj.AsSpan());

        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

        public int GetHashCode(ReadOnlySpan<byte> alternate)
        {
            var hash = new HashCode();
            hash.AddBytes(alternate);
            return hash.ToHashCode();
        }

        public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
    }
}
