namespace RunLedger.Core.Storage.Transfer;

/// <summary>A store that can export and import its content with <see cref="ILedgerTransfer"/>.</summary>
public interface ITransferableStore
{
    ILedgerTransfer Transfer { get; }
}
