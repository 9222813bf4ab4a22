using System.Globalization;

namespace RunLedger.Core.Storage;

/// <summary>
/// The database's schema is newer than this build of RunLedger knows: another server (a newer
/// version) has upgraded it. This build refuses to open it, and a running server refuses to write
/// to it once it finds out, because it would not keep what the newer schema expects (an older
/// build does not write the rollup rows or columns a later migration added). Nothing of the
/// refused operation took effect; upgrading this server is the fix, retrying is not.
/// </summary>
public sealed class SchemaTooNewException : InvalidOperationException
{
    public SchemaTooNewException()
        : base("The database's schema is newer than this RunLedger knows. Upgrade RunLedger.")
    {
    }

    public SchemaTooNewException(string message)
        : base(message)
    {
    }

    public SchemaTooNewException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public SchemaTooNewException(int databaseVersion, int knownVersion, string message)
        : base(message)
    {
        DatabaseVersion = databaseVersion;
        KnownVersion = knownVersion;
    }

    /// <summary>The newest schema version recorded in the database.</summary>
    public int DatabaseVersion { get; }

    /// <summary>The newest schema version this build knows.</summary>
    public int KnownVersion { get; }

    /// <summary>The refusal of a server that finds, while running, that another one upgraded the schema under it.</summary>
    public static SchemaTooNewException WhileRunning(int databaseVersion, int knownVersion) =>
        new(databaseVersion, knownVersion, string.Create(
            CultureInfo.InvariantCulture,
            $"The ledger's schema is at version {databaseVersion}, newer than this RunLedger server knows ({knownVersion}): a newer version upgraded it while this one was running. This server no longer writes to it, so nothing it cannot keep correctly is stored; nothing of this request was stored. Upgrade this replica to the version of the others and restart it; until then send writes to an upgraded replica."));

    /// <summary>The <see cref="SchemaTooNewException"/> that <paramref name="exception"/> is or wraps, if any.</summary>
    public static SchemaTooNewException? Find(Exception? exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is SchemaTooNewException found)
            {
                return found;
            }
        }

        return null;
    }
}
