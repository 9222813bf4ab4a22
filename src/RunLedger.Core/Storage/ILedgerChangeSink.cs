namespace RunLedger.Core.Storage;

/// <summary>Receives what an <see cref="ILedgerChangeFeed"/> hears. Calls must return quickly.</summary>
public interface ILedgerChangeSink
{
    /// <summary>A transaction that wrote events of <paramref name="projectId"/> up to <paramref name="lastEventId"/> committed.</summary>
    void Publish(long projectId, long lastEventId);

    /// <summary>
    /// Something may have changed anywhere: the feed was not listening for a while (it just
    /// connected or reconnected), so every reader should look at the event table again.
    /// </summary>
    void PublishAll();
}
