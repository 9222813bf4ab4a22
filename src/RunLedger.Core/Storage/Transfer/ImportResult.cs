namespace RunLedger.Core.Storage.Transfer;

/// <summary>What an import did with the records it was given.</summary>
public sealed record ImportResult(int Written, int Skipped)
{
    public static ImportResult None { get; } = new(0, 0);

    public ImportResult Add(ImportResult other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new ImportResult(Written + other.Written, Skipped + other.Skipped);
    }
}
