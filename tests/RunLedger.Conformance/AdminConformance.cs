using RunLedger.Core.Security;
using RunLedger.Core.Storage;

namespace RunLedger.Conformance;

/// <summary>Projects and API keys through <see cref="IAdminStore"/>.</summary>
public abstract class AdminConformance : StoreConformance
{
    [Fact]
    public async Task Projects_GetOrCreate_IsIdempotent_AndListedInCreationOrder()
    {
        var store = await OpenStoreAsync();
        var first = await store.Admin.GetOrCreateProjectAsync("alpha", Ct);
        Clock.Advance(TimeSpan.FromMinutes(1));
        var second = await store.Admin.GetOrCreateProjectAsync("beta", Ct);
        var again = await store.Admin.GetOrCreateProjectAsync("alpha", Ct);

        again.ShouldBe(first);
        first.CreatedAt.ShouldBe(Now);
        second.CreatedAt.ShouldBe(Now.AddMinutes(1));
        second.Id.ShouldNotBe(first.Id);
        (await store.Admin.FindProjectAsync("beta", Ct)).ShouldBe(second);
        (await store.Admin.FindProjectAsync("gamma", Ct)).ShouldBeNull();
        (await store.Admin.FindProjectAsync("ALPHA", Ct)).ShouldBeNull("project names are exact");
        (await store.Admin.ListProjectsAsync(Ct)).ShouldBe([first, second]);
    }

    [Fact]
    public async Task Keys_CreateFindListRevoke()
    {
        var store = await OpenStoreAsync();
        var a = await store.Admin.GetOrCreateProjectAsync("a", Ct);
        var b = await store.Admin.GetOrCreateProjectAsync("b", Ct);
        var secret = ApiKeySecrets.NewSecret();
        var hash = ApiKeySecrets.Hash(secret);

        var created = await store.Admin.CreateKeyAsync(a.Id, "ci", KeyScopes.Ingest | KeyScopes.Read, ApiKeySecrets.DisplayPrefix(secret), hash, Ct);
        var other = await store.Admin.CreateKeyAsync(b.Id, "admin", KeyScopes.Admin, "rl_other", ApiKeySecrets.Hash(ApiKeySecrets.NewSecret()), Ct);

        created.ProjectId.ShouldBe(a.Id);
        created.ProjectName.ShouldBe("a");
        created.Name.ShouldBe("ci");
        created.Prefix.ShouldBe(ApiKeySecrets.DisplayPrefix(secret));
        created.Scopes.ShouldBe(KeyScopes.Ingest | KeyScopes.Read);
        created.CreatedAt.ShouldBe(Now);
        created.IsRevoked.ShouldBeFalse();
        (await store.Admin.FindKeyAsync(hash, Ct)).ShouldBe(created);
        (await store.Admin.FindKeyAsync(ApiKeySecrets.Hash("rl_unknown"), Ct)).ShouldBeNull();
        (await store.Admin.ListKeysAsync(a.Id, Ct)).ShouldBe([created]);
        (await store.Admin.ListKeysAsync(null, Ct)).ShouldBe([created, other]);
        (await store.Admin.CountKeysAsync(Ct)).ShouldBe(2);

        Clock.Advance(TimeSpan.FromHours(1));
        (await store.Admin.RevokeKeyAsync(created.Id, Ct)).ShouldBeTrue();
        Clock.Advance(TimeSpan.FromHours(1));
        (await store.Admin.RevokeKeyAsync(created.Id, Ct)).ShouldBeTrue("the key exists; revoking it again changes nothing");
        (await store.Admin.RevokeKeyAsync(other.Id + 1000, Ct)).ShouldBeFalse();

        var revoked = (await store.Admin.FindKeyAsync(hash, Ct)).ShouldNotBeNull("a revoked key is still found, to say it is revoked");
        revoked.RevokedAt.ShouldBe(Now.AddHours(1), "the first revocation counts");
        revoked.Allows(KeyScopes.Read).ShouldBeFalse();
        (await store.Admin.CountKeysAsync(Ct)).ShouldBe(2);
    }

    [Fact]
    public async Task Keys_SurviveReopen()
    {
        var store = await OpenStoreAsync();
        var project = await store.Admin.GetOrCreateProjectAsync("a", Ct);
        var hash = ApiKeySecrets.Hash(ApiKeySecrets.NewSecret());
        var created = await store.Admin.CreateKeyAsync(project.Id, "k", KeyScopes.Read, "rl_abc", hash, Ct);

        store = await ReopenAsync(store);

        (await store.Admin.FindKeyAsync(hash, Ct)).ShouldBe(created);
        (await store.Admin.ListProjectsAsync(Ct)).ShouldBe([project]);
    }
}
