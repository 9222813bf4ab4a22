using Microsoft.Extensions.Logging;

namespace RunLedger.Server;

/// <summary>The server's log messages, source-generated.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "RunLedger store: {Store}")]
    public static partial void StoreOpened(ILogger logger, string store);

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "Created the first admin key for project '{Project}'; it is in {Path}")]
    public static partial void AdminKeyCreated(ILogger logger, string project, string path);

    [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "Added the key from RUNLEDGER_BOOTSTRAP_KEY as an admin key of project '{Project}'")]
    public static partial void BootstrapKeyAdded(ILogger logger, string project);

    [LoggerMessage(EventId = 103, Level = LogLevel.Information, Message = "Wrote the demo workload: {Runs} runs in {Sessions} sessions")]
    public static partial void DemoWritten(ILogger logger, int runs, int sessions);

    [LoggerMessage(EventId = 104, Level = LogLevel.Warning, Message = "The store is unavailable; answered {Method} {Path} with 503: {Reason}")]
    public static partial void StoreUnavailable(ILogger logger, string method, string path, string reason);

    [LoggerMessage(EventId = 105, Level = LogLevel.Error, Message = "The store's change feed stopped; live streams fall back to polling the event table")]
    public static partial void ChangeFeedStopped(ILogger logger, Exception exception);
}
