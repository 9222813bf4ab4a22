namespace RunLedger.Server;

/// <summary>How the server is started: where its data lives and where it listens.</summary>
public sealed class ServerOptions
{
    /// <summary>The directory holding the SQLite database and <c>admin.key</c>.</summary>
    public string DataDirectory { get; set; } = "runledger-data";

    /// <summary>
    /// The store (see <see cref="Hosting.StoreLocation"/>): a SQLite file or a PostgreSQL database.
    /// Null means the SQLite file <c>RunLedger:Sqlite:Path</c> inside <see cref="DataDirectory"/>.
    /// </summary>
    public string? Store { get; set; }

    /// <summary>The addresses Kestrel listens on.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:5170";

    /// <summary>Write the demo workload on start when the ledger is empty.</summary>
    public bool Demo { get; set; }

    /// <summary>Extra configuration (key=value, as on the command line), e.g. <c>RunLedger:Ingest:QueueCapacity=64</c>.</summary>
    public IList<string> Arguments { get; } = [];
}
