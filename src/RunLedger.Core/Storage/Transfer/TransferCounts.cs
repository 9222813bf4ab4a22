using System.Text.Json.Serialization;

namespace RunLedger.Core.Storage.Transfer;

/// <summary>How many records of each kind a store holds.</summary>
public sealed record TransferCounts(long Projects, long ApiKeys, long Sessions, long Runs, long Events, long Rollups)
{
    /// <summary>True when the store holds no run, session or event (projects and keys alone do not count).</summary>
    [JsonIgnore]
    public bool HasLedgerData => Sessions + Runs + Events > 0;

    /// <summary>Every record: what a progress bar counts.</summary>
    [JsonIgnore]
    public long Total => Projects + ApiKeys + Sessions + Runs + Events + Rollups;
}
