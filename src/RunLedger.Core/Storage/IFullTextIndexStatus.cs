namespace RunLedger.Core.Storage;

/// <summary>A store whose full-text index follows the commit in the background: how far behind it is.</summary>
public interface IFullTextIndexStatus
{
    /// <summary>
    /// Runs not in the full-text index yet. Search still finds them (it reads their bodies), but
    /// a number that keeps growing means indexing fails: the log says why.
    /// </summary>
    Task<long> CountUnindexedRunsAsync(CancellationToken cancellationToken);
}
