namespace RunLedger.Core.Model;

/// <summary>Event types the ledger writes itself. Clients may send any other type.</summary>
public static class EventTypes
{
    public const string RunStarted = "run.started";
    public const string RunCompleted = "run.completed";
    public const string RunFailed = "run.failed";
    public const string RunTimeout = "run.timeout";
    public const string RunCancelled = "run.cancelled";
    public const string RunPartial = "run.partial";
    public const string RunUpdated = "run.updated";
    public const string SessionStarted = "session.started";
    public const string SessionUpdated = "session.updated";
    public const string SessionEnded = "session.ended";

    /// <summary>The event written when a run is first seen or changes status.</summary>
    public static string ForStatus(RunStatus status) => status switch
    {
        RunStatus.Running => RunStarted,
        RunStatus.Succeeded => RunCompleted,
        RunStatus.Failed => RunFailed,
        RunStatus.Timeout => RunTimeout,
        RunStatus.Cancelled => RunCancelled,
        RunStatus.Partial => RunPartial,
        _ => RunUpdated,
    };
}
