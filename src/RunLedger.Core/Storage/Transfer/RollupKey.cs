namespace RunLedger.Core.Storage.Transfer;

/// <summary>The key of a rollup bucket within a project, in the order of <see cref="ILedgerTransfer.ExportRollupsAsync"/>.</summary>
public sealed record RollupKey(long BucketSize, long BucketStart, string Kind, string Name, string Model, string Status)
{
    public static RollupKey Of(RollupRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return new RollupKey(record.BucketSize, record.BucketStart, record.Kind, record.Name, record.Model, record.Status);
    }
}
