using Npgsql;
using RunLedger.Core.Model;
using RunLedger.Core.Security;
using RunLedger.Core.Storage;

namespace RunLedger.Postgres;

/// <summary>Projects and API keys.</summary>
internal sealed class PostgresAdminStore : IAdminStore
{
    private const string KeyColumns = "k.id, k.project_id, p.name, k.name, k.prefix, k.scopes, k.created_at, k.revoked_at";

    private readonly PostgresLedgerStore _store;
    private readonly TimeProvider _time;

    public PostgresAdminStore(PostgresLedgerStore store, TimeProvider time)
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

        await using (var command = _store.DataSource.CreateCommand("INSERT INTO projects (name, created_at) VALUES (@n, @t) ON CONFLICT (name) DO NOTHING"))
        {
            command.Parameters.AddWithValue("n", name);
            command.Parameters.AddWithValue("t", StorageUnits.ToMicros(_time.GetUtcNow()));
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        return await FindProjectAsync(name, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Project '{name}' could not be created.");
    }

    public async Task<Project?> FindProjectAsync(string name, CancellationToken cancellationToken)
    {
        await using var command = _store.DataSource.CreateCommand("SELECT id, name, created_at FROM projects WHERE name = @n");
        command.Parameters.AddWithValue("n", name);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? new Project(reader.GetInt64(0), reader.GetString(1), StorageUnits.FromMicros(reader.GetInt64(2)))
            : null;
    }

    public async Task<IReadOnlyList<Project>> ListProjectsAsync(CancellationToken cancellationToken)
    {
        await using var command = _store.DataSource.CreateCommand("SELECT id, name, created_at FROM projects ORDER BY id");
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
        long id;
        await using (var command = _store.DataSource.CreateCommand(
            "INSERT INTO api_keys (project_id, name, prefix, secret_hash, scopes, created_at) VALUES (@p, @n, @x, @h, @s, @t) RETURNING id"))
        {
            command.Parameters.AddWithValue("p", projectId);
            command.Parameters.AddWithValue("n", name);
            command.Parameters.AddWithValue("x", prefix);
            command.Parameters.AddWithValue("h", secretHash);
            command.Parameters.AddWithValue("s", (int)scopes);
            command.Parameters.AddWithValue("t", StorageUnits.ToMicros(_time.GetUtcNow()));
            id = (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }

        return (await QueryKeysAsync("k.id = @v", id, cancellationToken).ConfigureAwait(false))[0];
    }

    public async Task<ApiKeyInfo?> FindKeyAsync(byte[] secretHash, CancellationToken cancellationToken) =>
        (await QueryKeysAsync("k.secret_hash = @v", secretHash, cancellationToken).ConfigureAwait(false)).FirstOrDefault();

    public Task<IReadOnlyList<ApiKeyInfo>> ListKeysAsync(long? projectId, CancellationToken cancellationToken) =>
        projectId is { } id
            ? QueryKeysAsync("k.project_id = @v", id, cancellationToken)
            : QueryKeysAsync("TRUE", null, cancellationToken);

    public async Task<bool> RevokeKeyAsync(long keyId, CancellationToken cancellationToken)
    {
        await using var command = _store.DataSource.CreateCommand(
            "WITH revoked AS (UPDATE api_keys SET revoked_at = @t WHERE id = @id AND revoked_at IS NULL RETURNING id) " +
            "SELECT EXISTS (SELECT 1 FROM revoked) OR EXISTS (SELECT 1 FROM api_keys WHERE id = @id)");
        command.Parameters.AddWithValue("id", keyId);
        command.Parameters.AddWithValue("t", StorageUnits.ToMicros(_time.GetUtcNow()));
        return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    public async Task<long> CountKeysAsync(CancellationToken cancellationToken)
    {
        await using var command = _store.DataSource.CreateCommand("SELECT count(*) FROM api_keys");
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private async Task<IReadOnlyList<ApiKeyInfo>> QueryKeysAsync(string where, object? value, CancellationToken cancellationToken)
    {
        await using var command = _store.DataSource.CreateCommand($"SELECT {KeyColumns} FROM api_keys k JOIN projects p ON p.id = k.project_id WHERE {where} ORDER BY k.id");
        if (value is not null)
        {
            command.Parameters.AddWithValue("v", value);
        }

        var list = new List<ApiKeyInfo>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(new ApiKeyInfo
            {
                Id = reader.GetInt64(0),
                ProjectId = reader.GetInt64(1),
                ProjectName = reader.GetString(2),
                Name = reader.GetString(3),
                Prefix = reader.GetString(4),
                Scopes = (KeyScopes)reader.GetInt32(5),
                CreatedAt = StorageUnits.FromMicros(reader.GetInt64(6)),
                RevokedAt = reader.IsDBNull(7) ? null : StorageUnits.FromMicros(reader.GetInt64(7)),
            });
        }

        return list;
    }
}
