namespace RunLedger.Server.Hosting;

/// <summary>Which database engine a <see cref="StoreLocation"/> names.</summary>
public enum StoreEngine
{
    Sqlite,
    Postgres,
}

/// <summary>
/// Where a ledger lives, parsed from what a user types after <c>--store</c> (or sets in
/// <c>RUNLEDGER_STORE</c>): a SQLite file, or a PostgreSQL database named by a connection string
/// or a <c>postgres://</c> URL. The same syntax serves <c>serve</c>, <c>migrate</c>, <c>backup</c>
/// and <c>restore</c>.
/// </summary>
public sealed record StoreLocation(StoreEngine Engine, string Value)
{
    /// <summary>The forms accepted, for error messages and help text.</summary>
    public const string AcceptedForms =
        "a SQLite file ('runledger.db', 'sqlite:/path/to/file.db'), a PostgreSQL URL ('postgres://user:password@host:5432/database') or a PostgreSQL connection string ('Host=...;Database=...;Username=...')";

    /// <summary>
    /// Parses a store location. Relative SQLite paths are resolved against
    /// <paramref name="baseDirectory"/>.
    /// </summary>
    /// <exception cref="FormatException">The text names no store this build knows, with the accepted forms.</exception>
    public static StoreLocation Parse(string text, string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(baseDirectory);
        var value = text.Trim();
        if (value.Length == 0)
        {
            throw new FormatException("The store location is empty; give " + AcceptedForms + ".");
        }

        if (value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
            || value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            return new StoreLocation(StoreEngine.Postgres, value);
        }

        if (value.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            var path = value["sqlite:".Length..];
            if (path.StartsWith("//", StringComparison.Ordinal))
            {
                path = path[2..];
            }

            if (path.Length == 0)
            {
                throw new FormatException("'sqlite:' names no file; give e.g. 'sqlite:/var/lib/runledger/runledger.db'.");
            }

            return new StoreLocation(StoreEngine.Sqlite, Path.GetFullPath(path, baseDirectory));
        }

        if (LooksLikeConnectionString(value))
        {
            return new StoreLocation(StoreEngine.Postgres, value);
        }

        if (value.Contains("://", StringComparison.Ordinal))
        {
            throw new FormatException($"'{value[..value.IndexOf("://", StringComparison.Ordinal)]}://' is not a store this build knows; give " + AcceptedForms + ".");
        }

        return new StoreLocation(StoreEngine.Sqlite, Path.GetFullPath(value, baseDirectory));
    }

    /// <summary>The location without secrets, for logs and messages.</summary>
    public string Redacted()
    {
        if (Engine == StoreEngine.Sqlite)
        {
            return "sqlite:" + Value;
        }

        if (Uri.TryCreate(Value, UriKind.Absolute, out var uri) && uri.UserInfo.Contains(':', StringComparison.Ordinal))
        {
            return Value.Replace(uri.UserInfo, uri.UserInfo[..uri.UserInfo.IndexOf(':', StringComparison.Ordinal)] + ":***", StringComparison.Ordinal);
        }

        var parts = Value.Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(part => part.Split('=', 2) is [var key, _] && IsPasswordKey(key.Trim()) ? key + "=***" : part);
        return string.Join(';', parts);
    }

    public override string ToString() => Redacted();

    private static bool LooksLikeConnectionString(string value) =>
        value.Contains('=', StringComparison.Ordinal)
        && value.Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(part => part.Split('=', 2)[0].Trim())
            .Any(key => key.Equals("Host", StringComparison.OrdinalIgnoreCase)
                || key.Equals("Server", StringComparison.OrdinalIgnoreCase)
                || key.Equals("Database", StringComparison.OrdinalIgnoreCase));

    private static bool IsPasswordKey(string key) =>
        key.Equals("Password", StringComparison.OrdinalIgnoreCase) || key.Equals("Pwd", StringComparison.OrdinalIgnoreCase);
}
