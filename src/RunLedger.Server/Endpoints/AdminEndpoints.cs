using System.Text.RegularExpressions;
using RunLedger.Core.Model;
using RunLedger.Core.Security;
using RunLedger.Core.Storage;
using RunLedger.Server.Auth;

namespace RunLedger.Server.Endpoints;

/// <summary>Projects and keys (scope <c>admin</c>), and <c>/v1/whoami</c> for any key.</summary>
internal static partial class AdminEndpoints
{
    public static void MapAdmin(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/v1/whoami", WhoAmI).RequireScope(KeyScopes.None).WithName("WhoAmI").WithSummary("The caller's project and scopes");
        var admin = routes.MapGroup("/v1").RequireScope(KeyScopes.Admin);
        admin.MapGet("/projects", ListProjectsAsync).WithName("ListProjects");
        admin.MapPost("/projects", CreateProjectAsync).WithName("CreateProject");
        admin.MapGet("/keys", ListKeysAsync).WithName("ListKeys");
        admin.MapPost("/keys", CreateKeyAsync).WithName("CreateKey");
        admin.MapDelete("/keys/{id:long}", RevokeKeyAsync).WithName("RevokeKey");
    }

    internal static IResult WhoAmI(HttpContext http)
    {
        var key = CallerKey.Get(http);
        return TypedResults.Ok(new WhoAmIResponse(key.ProjectName, ScopeList(key.Scopes), key.Prefix, key.Name));
    }

    internal static async Task<IResult> ListProjectsAsync(ILedgerStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok(await store.Admin.ListProjectsAsync(cancellationToken).ConfigureAwait(false));

    internal static async Task<IResult> CreateProjectAsync(ILedgerStore store, CreateProjectRequest? request, CancellationToken cancellationToken)
    {
        if (request?.Name is not { } name || !ProjectName().IsMatch(name))
        {
            return Problems.BadRequest("invalid-argument", "name: a project name is 1-64 characters of a-z, 0-9, '-' and '_', starting with a letter or digit.", "name");
        }

        var existing = await store.Admin.FindProjectAsync(name, cancellationToken).ConfigureAwait(false);
        var project = existing ?? await store.Admin.GetOrCreateProjectAsync(name, cancellationToken).ConfigureAwait(false);
        return existing is null ? TypedResults.Created($"/v1/projects/{project.Name}", project) : TypedResults.Ok(project);
    }

    internal static async Task<IResult> ListKeysAsync(ILedgerStore store, CancellationToken cancellationToken)
    {
        var keys = await store.Admin.ListKeysAsync(null, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(keys.Select(KeyView.From).ToArray());
    }

    internal static async Task<IResult> CreateKeyAsync(HttpContext http, ILedgerStore store, CreateKeyRequest? request, CancellationToken cancellationToken)
    {
        var caller = CallerKey.Get(http);
        if (request is null || string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 100)
        {
            return Problems.BadRequest("invalid-argument", "name: give the key a name of 1-100 characters (e.g. \"ci\" or \"agent-prod\").", "name");
        }

        var scopes = KeyScopes.None;
        foreach (var scope in request.Scopes ?? ["ingest", "read"])
        {
            if (!ApiKeySecrets.TryParseScopes(scope, out var parsed))
            {
                return Problems.BadRequest("invalid-argument", $"scopes: '{scope}' is not a scope; use ingest, read or admin.", "scopes");
            }

            scopes |= parsed;
        }

        if (scopes == KeyScopes.None)
        {
            return Problems.BadRequest("invalid-argument", "scopes: give at least one of ingest, read, admin.", "scopes");
        }

        Project project;
        if (request.Project is null || request.Project == caller.ProjectName)
        {
            project = new Project(caller.ProjectId, caller.ProjectName, default);
        }
        else
        {
            var found = await store.Admin.FindProjectAsync(request.Project, cancellationToken).ConfigureAwait(false);
            if (found is null)
            {
                return Problems.BadRequest("invalid-argument", $"project: there is no project '{request.Project}'; create it first (POST /v1/projects or 'runledger projects create').", "project");
            }

            project = found;
        }

        var secret = ApiKeySecrets.NewSecret();
        var key = await store.Admin.CreateKeyAsync(project.Id, request.Name, scopes, ApiKeySecrets.DisplayPrefix(secret), ApiKeySecrets.Hash(secret), cancellationToken).ConfigureAwait(false);
        return TypedResults.Created($"/v1/keys/{key.Id}", new CreatedKey(key.Id, secret, key.Prefix, key.ProjectName, ScopeList(key.Scopes), key.Name));
    }

    internal static async Task<IResult> RevokeKeyAsync(ILedgerStore store, ApiKeyCache cache, long id, CancellationToken cancellationToken)
    {
        var found = await store.Admin.RevokeKeyAsync(id, cancellationToken).ConfigureAwait(false);
        cache.Clear();
        return found ? TypedResults.NoContent() : Problems.NotFound("key", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private static string[] ScopeList(KeyScopes scopes) => ApiKeySecrets.FormatScopes(scopes).Split(',', StringSplitOptions.RemoveEmptyEntries);

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex ProjectName();
}

internal sealed record WhoAmIResponse(string Project, IReadOnlyList<string> Scopes, string KeyPrefix, string KeyName);

internal sealed record CreateProjectRequest(string? Name);

internal sealed record CreateKeyRequest(string? Name, string? Project, IReadOnlyList<string>? Scopes);

internal sealed record CreatedKey(long Id, string Secret, string Prefix, string Project, IReadOnlyList<string> Scopes, string Name);

internal sealed record KeyView(long Id, string Name, string Prefix, string Project, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt)
{
    public static KeyView From(ApiKeyInfo key) =>
        new(key.Id, key.Name, key.Prefix, key.ProjectName, ApiKeySecrets.FormatScopes(key.Scopes).Split(',', StringSplitOptions.RemoveEmptyEntries), key.CreatedAt, key.RevokedAt);
}
