using System.Collections.Concurrent;
using RunLedger.Core.Security;
using RunLedger.Core.Storage;

namespace RunLedger.Server.Auth;

/// <summary>
/// Checks <c>Authorization: Bearer &lt;key&gt;</c> and the scope an endpoint needs, and puts the
/// caller's key in <see cref="HttpContext.Items"/>. Keys are looked up by the SHA-256 of the
/// secret; recent look-ups are cached for a few seconds and dropped at once on revocation.
/// </summary>
internal sealed class ApiKeyFilter(KeyScopes scope) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var keys = http.RequestServices.GetRequiredService<ApiKeyCache>();
        var header = http.Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(header))
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return Problems.Unauthorized("Send the key as 'Authorization: Bearer <key>'. The first key is printed by 'runledger serve' on first start and kept in <data dir>/admin.key.");
        }

        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || !ApiKeySecrets.IsWellFormed(header[7..].Trim()))
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return Problems.Unauthorized("The Authorization header must be 'Bearer <key>' with a key such as rl_...");
        }

        var key = await keys.FindAsync(header[7..].Trim(), http.RequestAborted).ConfigureAwait(false);
        if (key is null)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
            return Problems.Unauthorized("This key is not known to this server. Check for a typo, or create a key with 'runledger keys create'.");
        }

        if (key.IsRevoked)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
            return Problems.Unauthorized($"The key {key.Prefix}... was revoked. Use another key.");
        }

        if (!key.Allows(scope))
        {
            return Problems.Forbidden($"The key {key.Prefix}... has scopes '{ApiKeySecrets.FormatScopes(key.Scopes)}'; this needs '{ApiKeySecrets.FormatScopes(scope)}'. Create a key with that scope.");
        }

        http.Items[typeof(ApiKeyInfo)] = key;
        return await next(context).ConfigureAwait(false);
    }
}

/// <summary>Looks keys up by hash with a short cache.</summary>
internal sealed class ApiKeyCache(ILedgerStore store, TimeProvider time)
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<string, (ApiKeyInfo Key, DateTimeOffset Expires)> _cache = new(StringComparer.Ordinal);

    public async Task<ApiKeyInfo?> FindAsync(string secret, CancellationToken cancellationToken)
    {
        var hash = ApiKeySecrets.Hash(secret);
        var hex = ApiKeySecrets.ToHex(hash);
        var now = time.GetUtcNow();
        if (_cache.TryGetValue(hex, out var entry) && entry.Expires > now)
        {
            return entry.Key;
        }

        var key = await store.Admin.FindKeyAsync(hash, cancellationToken).ConfigureAwait(false);
        if (key is null)
        {
            return null;
        }

        if (_cache.Count > 10_000)
        {
            _cache.Clear();
        }

        _cache[hex] = (key, now + Lifetime);
        return key;
    }

    public void Clear() => _cache.Clear();
}

/// <summary>Helpers to read the caller's key.</summary>
internal static class CallerKey
{
    public static ApiKeyInfo Get(HttpContext http) =>
        http.Items[typeof(ApiKeyInfo)] as ApiKeyInfo ?? throw new InvalidOperationException("The endpoint has no key filter.");

    public static RouteHandlerBuilder RequireScope(this RouteHandlerBuilder builder, KeyScopes scope) =>
        builder.AddEndpointFilter(new ApiKeyFilter(scope));

    public static RouteGroupBuilder RequireScope(this RouteGroupBuilder builder, KeyScopes scope) =>
        builder.AddEndpointFilter(new ApiKeyFilter(scope));
}
