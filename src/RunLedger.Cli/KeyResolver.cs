namespace RunLedger.Cli;

/// <summary>Where the key and server URL come from, in order: flag, environment, then defaults.</summary>
internal static class KeyResolver
{
    public const string ServerVariable = "RUNLEDGER_URL";
    public const string KeyVariable = "RUNLEDGER_KEY";
    public const string DataVariable = "RUNLEDGER_DATA";
    public const string StoreVariable = "RUNLEDGER_STORE";
    public const string DefaultServer = "http://127.0.0.1:5170";
    public const string DefaultDataDirectory = "runledger-data";
    public const string AdminKeyFileName = "admin.key";

    /// <summary>
    /// The key to send: <c>--key</c>, else <c>RUNLEDGER_KEY</c>, else the <c>admin.key</c> file the
    /// server writes into its data directory (<c>--data</c>, else <c>RUNLEDGER_DATA</c>, else
    /// <c>./runledger-data</c>). No key at all is not an error here: the server answers 401.
    /// </summary>
    public static ResolvedKey ResolveKey(string? keyOption, string? dataOption, Func<string, string?> environment, string currentDirectory)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (!string.IsNullOrWhiteSpace(keyOption))
        {
            return new ResolvedKey(keyOption.Trim(), "--key");
        }

        var fromEnvironment = environment(KeyVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return new ResolvedKey(fromEnvironment.Trim(), KeyVariable);
        }

        var file = Path.Combine(ResolveDataDirectory(dataOption, environment, currentDirectory), AdminKeyFileName);
        if (File.Exists(file))
        {
            var text = File.ReadAllText(file).Trim();
            if (text.Length > 0)
            {
                return new ResolvedKey(text, file);
            }
        }

        return new ResolvedKey(null, $"none (no --key, no {KeyVariable}, no {file})");
    }

    public static string ResolveDataDirectory(string? dataOption, Func<string, string?> environment, string currentDirectory)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var directory = !string.IsNullOrWhiteSpace(dataOption) ? dataOption
            : environment(DataVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment
            : DefaultDataDirectory;
        return Path.GetFullPath(directory, currentDirectory);
    }

    /// <summary>The server: <c>--server</c>, else <c>RUNLEDGER_URL</c>, else http://127.0.0.1:5170.</summary>
    public static Uri ResolveServer(string? serverOption, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var text = !string.IsNullOrWhiteSpace(serverOption) ? serverOption
            : environment(ServerVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment
            : DefaultServer;
        if (!Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new CliUsageException($"'{text}' is not an http:// or https:// URL (from --server or {ServerVariable}).");
        }

        return uri;
    }
}

/// <summary>A key and where it was found (for messages: "the key from RUNLEDGER_KEY was refused").</summary>
internal sealed record ResolvedKey(string? Key, string Source);
