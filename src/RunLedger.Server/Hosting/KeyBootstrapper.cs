using Microsoft.Extensions.Logging;
using RunLedger.Core.Security;
using RunLedger.Core.Storage;

namespace RunLedger.Server.Hosting;

/// <summary>
/// On first start: creates the default project and an admin key, prints the key once and writes
/// it to <c>&lt;data dir&gt;/admin.key</c> (mode 0600) where the CLI on this machine finds it.
/// <c>RUNLEDGER_BOOTSTRAP_KEY</c> supplies that key instead of a random one.
/// </summary>
internal sealed class KeyBootstrapper(ILedgerStore store, ILogger<KeyBootstrapper> logger)
{
    public const string DefaultProject = "default";
    public const string KeyFileName = "admin.key";

    public async Task RunAsync(string dataDirectory, string? bootstrapKey, TextWriter console, CancellationToken cancellationToken)
    {
        var project = await store.Admin.GetOrCreateProjectAsync(DefaultProject, cancellationToken).ConfigureAwait(false);
        var keyFile = Path.Combine(dataDirectory, KeyFileName);
        if (!string.IsNullOrEmpty(bootstrapKey))
        {
            if (!ApiKeySecrets.IsWellFormed(bootstrapKey))
            {
                throw new InvalidOperationException("RUNLEDGER_BOOTSTRAP_KEY must be 16-200 characters without spaces.");
            }

            if (await store.Admin.FindKeyAsync(ApiKeySecrets.Hash(bootstrapKey), cancellationToken).ConfigureAwait(false) is null)
            {
                await store.Admin.CreateKeyAsync(project.Id, "bootstrap", KeyScopes.Admin, ApiKeySecrets.DisplayPrefix(bootstrapKey), ApiKeySecrets.Hash(bootstrapKey), cancellationToken).ConfigureAwait(false);
                Log.BootstrapKeyAdded(logger, project.Name);
            }

            if (!File.Exists(keyFile))
            {
                WriteKeyFile(keyFile, bootstrapKey);
            }

            return;
        }

        if (await store.Admin.CountKeysAsync(cancellationToken).ConfigureAwait(false) > 0)
        {
            return;
        }

        var secret = ApiKeySecrets.NewSecret();
        await store.Admin.CreateKeyAsync(project.Id, "admin", KeyScopes.Admin, ApiKeySecrets.DisplayPrefix(secret), ApiKeySecrets.Hash(secret), cancellationToken).ConfigureAwait(false);
        WriteKeyFile(keyFile, secret);
        Log.AdminKeyCreated(logger, project.Name, keyFile);
        await console.WriteLineAsync($"""

            RunLedger created the first admin key. It is shown only this once:

                {secret}

            It is also in {keyFile} (readable only by you), where 'runledger' commands on this
            machine find it. Create narrower keys with 'runledger keys create'.

            """).ConfigureAwait(false);
    }

    private static void WriteKeyFile(string path, string secret)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(secret);
            writer.Write('\n');
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
