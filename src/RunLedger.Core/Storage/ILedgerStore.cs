using RunLedger.Core.Security;

namespace RunLedger.Core.Storage;

/// <summary>
/// A ledger store: one database holding every project. Each role is a small interface so a
/// store provider implements exactly what its database does.
/// </summary>
public interface ILedgerStore : IAsyncDisposable
{
    /// <summary>Creates or upgrades the schema (numbered migrations) and checks the database.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    ILedgerWriter Writer { get; }

    ILedgerReader Reader { get; }

    IAdminStore Admin { get; }

    /// <summary>A short description for logs and <c>/readyz</c> (never a password).</summary>
    string Describe();
}
