namespace RunLedger.Core.Storage.Transfer;

/// <summary>A copy that would mix two ledgers: the target already holds data that did not come from the source.</summary>
public sealed class TransferConflictException : Exception
{
    public TransferConflictException(string message)
        : base(message)
    {
    }

    public TransferConflictException()
    {
    }

    public TransferConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
