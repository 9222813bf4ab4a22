using RunLedger.Core.Model;
using RunLedger.Core.Security;

namespace RunLedger.Core.Storage;

/// <summary>Projects and API keys.</summary>
public interface IAdminStore
{
    Task<Project> GetOrCreateProjectAsync(string name, CancellationToken cancellationToken);

    Task<Project?> FindProjectAsync(string name, CancellationToken cancellationToken);

    Task<IReadOnlyList<Project>> ListProjectsAsync(CancellationToken cancellationToken);

    Task<ApiKeyInfo> CreateKeyAsync(long projectId, string name, KeyScopes scopes, string prefix, byte[] secretHash, CancellationToken cancellationToken);

    /// <summary>The key whose secret hashes to <paramref name="secretHash"/>, revoked or not.</summary>
    Task<ApiKeyInfo?> FindKeyAsync(byte[] secretHash, CancellationToken cancellationToken);

    Task<IReadOnlyList<ApiKeyInfo>> ListKeysAsync(long? projectId, CancellationToken cancellationToken);

    /// <summary>Revokes a key; false when there is no such key.</summary>
    Task<bool> RevokeKeyAsync(long keyId, CancellationToken cancellationToken);

    Task<long> CountKeysAsync(CancellationToken cancellationToken);
}
