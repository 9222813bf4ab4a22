namespace RunLedger.Core.Storage.Transfer;

/// <summary>The sections of a transfer, in the order they are read and written.</summary>
public enum TransferPhase
{
    Projects = 0,
    ApiKeys = 1,
    Sessions = 2,
    Runs = 3,
    Rollups = 4,
    Events = 5,
    Done = 6,
}
