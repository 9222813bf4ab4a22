using Microsoft.Extensions.Logging;

namespace RunLedger.Core.Storage;

/// <summary>
/// An optional role of a store whose database is shared by several server processes: it tells
/// this process about commits made by any process (for PostgreSQL, LISTEN/NOTIFY), so live
/// streams wake at once instead of at their next poll. Notifications carry no data; readers
/// always read the event table, so a lost notification delays a reader but never loses an event.
/// A store whose database only this process writes (SQLite) does not implement it.
/// </summary>
public interface ILedgerChangeFeed
{
    /// <summary>
    /// Listens until <paramref name="cancellationToken"/> is cancelled, passing every commit to
    /// <paramref name="sink"/>. Survives the database going away: it reconnects by itself with a
    /// backoff and calls <see cref="ILedgerChangeSink.PublishAll"/> after each (re)connection,
    /// since commits made while it was not listening were not heard. Losing and regaining the
    /// connection is reported to <paramref name="logger"/>.
    /// </summary>
    Task ListenAsync(ILedgerChangeSink sink, ILogger logger, CancellationToken cancellationToken);
}
