namespace RunLedger.Core.Storage;

/// <summary>
/// What the data of an event the ledger writes for a run is made of besides the run's id and name,
/// in the units the run row holds them (<see cref="RunMerge.RunEventValuesOf"/>);
/// <see cref="RunMerge.RunEventData"/> makes the data from them. A store that keeps these values
/// exactly gets the data back byte for byte.
/// </summary>
/// <param name="Kind">The run's kind (wire name).</param>
/// <param name="Status">The run's status (wire name).</param>
/// <param name="Model">The run's model, or null.</param>
/// <param name="ParentId">The run's parent, or null.</param>
/// <param name="DurationUs">The run's duration in microseconds, or null while it runs.</param>
/// <param name="CostNanos">The run's cost in billionths of a dollar, or null.</param>
/// <param name="TotalTokens">Input plus output tokens; 0 is left out of the data.</param>
/// <param name="Error">The run's error message, or null.</param>
public readonly record struct RunEventValues(
    string Kind,
    string Status,
    string? Model,
    Guid? ParentId,
    long? DurationUs,
    long? CostNanos,
    long TotalTokens,
    string? Error);
