namespace RunLedger.Core.Model;

/// <summary>Where a run stands. Every status but <see cref="Running"/> is terminal.</summary>
public enum RunStatus
{
    Running,
    Succeeded,
    Failed,
    Timeout,
    Cancelled,
    Partial,
}
