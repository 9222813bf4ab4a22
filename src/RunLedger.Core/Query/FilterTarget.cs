namespace RunLedger.Core.Query;

/// <summary>What a filter selects: each target has its own set of fields.</summary>
public enum FilterTarget
{
    Runs,
    Events,
    Sessions,
}
