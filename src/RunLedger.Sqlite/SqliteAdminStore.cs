using Microsoft.Data.Sqlite;
using RunLedger.Core.Model;
using RunLedger.Core.Security;
using RunLedger.Core.Storage;

namespace RunLedger.Sqlite;

/// <summary>Projects and API keys. Writes go through the writer connection, reads through the pool.</summary>
internal sealed class SqliteAdminStore : IAdminStore
{
    private const string KeyColumns = "k.id, k.project_id, p.name, k.name, k.prefix, k.scopes, k.created_at, k.revoked_at";

    private readonly SqliteLedgerStore _store;
    private readonly TimeProvider _time;

    public SqliteAdminStore(SqliteLedgerStore store, TimeProvider time)
    {
        _store = store;
        _time = time;
    }

    public async Task<Project> GetOrCreateProjectAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (await FindProjectAsync(name, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            return existing;
        }

        await _store.WithWriterAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "INSERT OR IGNORE INTO projects (name, created_at) VALUES (@n, @t);";
            command.Parameters.AddWithValue("@n", name);
            command.Parameters.AddWithValue("@t", StorageUnits.ToMicros(_time.GetUtcNow()));
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }).ConfigureAwait(false);

        return await FindProjectAsync(name, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Project '{name}' could not be created.");
    }

    public async Task<Project?> FindProjectAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await _store.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, name, created_at FROM projects WHERE name = @n;";
        command.Parameters.AddWithValue("@n", name);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? new Project(reader.GetInt64(0), reader.GetString(1), StorageUnits.FromMicros(reader.GetInt64(2)))
            : null;
    }

    public async Task<IReadOnlyList<Project>> ListProjectsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _store.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, name, created_at FROM projects ORDER BY id;";
        var list = new List<Project>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(new Project(reader.GetInt64(0), reader.GetString(1), StorageUnits.FromMicros(reader.GetInt64(2))));
        }

        return list;
    }

    public async Task<ApiKeyInfo> CreateKeyAsync(long projectId, string name, KeyScopes scopes, string prefix, byte[] secretHash, CancellationToken cancellationToken)
    {
        var id = await _store.WithWriterAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO api_keys (project_id, name, prefix, secret_hash, scopes, created_at) VALUES (@p, @n, @x, @h, @s, @t) RETURNING id;";
            command.Parameters.AddWithValue("@p", projectId);
            command.Parameters.AddWithValue("@n", name);
            command.Parameters.AddWithValue("@x", prefix);
            command.Parameters.AddWithValue("@h", secretHash);
            command.Parameters.AddWithValue("@s", (int)scopes);
            command.Parameters.AddWithValue("@t", StorageUnits.ToMicros(_time.GetUtcNow()));
            return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }).ConfigureAwait(false);

        return (await QueryKeysAsync("k.id = @v", id, cancellationToken).ConfigureAwait(false))[0];
    }

    public async Task<ApiKeyInfo?> FindKeyAsync(byte[] secretHash, CancellationToken cancellationToken) =>
        (await QueryKeysAsync("k.secret_hash = @v", secretHash, cancellationToken).ConfigureAwait(false)).FirstOrDefault();

    public Task<IReadOnlyList<ApiKeyInfo>> ListKeysAsync(long? projectId, CancellationToken cancellationToken) =>
        projectId is { } id
            ? QueryKeysAsync("k.project_id = @v", id, cancellationToken)
            : QueryKeysAsync("1 = 1", null, cancellationToken);

    public Task<bool> RevokeKeyAsync(long keyId, CancellationToken cancellationToken) =>
        _store.WithWriterAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "UPDATE api_keys SET revoked_at = @t WHERE id = @id AND revoked_at IS NULL;";
            command.Parameters.AddWithValue("@id", keyId);
            command.Parameters.AddWithValue("@t", StorageUnits.ToMicros(_time.GetUtcNow()));
            if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1)
            {
                return true;
            }

            command.CommandText = "SELECT count(*) FROM api_keys WHERE id = @id;";
            return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! == 1;
        });

    public async Task<long> CountKeysAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _store.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM api_keys;";
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private async Task<IReadOnlyList<ApiKeyInfo>> QueryKeysAsync(string where, object? value, CancellationToken cancellationToken)
    {
        await using var connection = await _store.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {KeyColumns} FROM api_keys k JOIN projects p ON p.id = k.project_id WHERE {where} ORDER BY k.id;";
        if (value is not null)
        {
            command.Parameters.AddWithValue("@v", value);
        }

        var list = new List<ApiKeyInfo>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(Read(reader));
        }

        return list;
    }

    private static ApiKeyInfo Read(SqliteDataReader r) => new()
    {
        Id = r.GetInt64(0),
        ProjectId = r.GetInt64(1),
        ProjectName = r.GetString(2),
        Name = r.GetString(3),
        Prefix = r.GetString(4),
        Scopes = (KeyScopes)r.GetInt32(5),
        CreatedAt = StorageUnits.FromMicros(r.GetInt64(6)),
        RevokedAt = r.IsDBNull(7) ? null : StorageUnits.FromMicros(r.GetInt64(7)),
    };
}
