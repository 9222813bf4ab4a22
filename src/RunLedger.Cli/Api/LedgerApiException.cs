using System.Net;

namespace RunLedger.Cli.Api;

/// <summary>The server answered with an error status. <see cref="Problem"/> holds its problem details.</summary>
public sealed class LedgerApiException : Exception
{
    public LedgerApiException(HttpStatusCode status, LedgerProblem? problem, string requestPath, string requiredScope)
        : base(BuildMessage(status, problem, requestPath))
    {
        Status = status;
        Problem = problem;
        RequestPath = requestPath;
        RequiredScope = requiredScope;
    }

    public LedgerApiException()
        : this(HttpStatusCode.InternalServerError, null, string.Empty, string.Empty)
    {
    }

    public LedgerApiException(string message)
        : base(message)
    {
        Status = HttpStatusCode.InternalServerError;
        RequestPath = string.Empty;
        RequiredScope = string.Empty;
    }

    public LedgerApiException(string message, Exception innerException)
        : base(message, innerException)
    {
        Status = HttpStatusCode.InternalServerError;
        RequestPath = string.Empty;
        RequiredScope = string.Empty;
    }

    public HttpStatusCode Status { get; }

    public LedgerProblem? Problem { get; }

    /// <summary>The path (and query) of the request that failed.</summary>
    public string RequestPath { get; }

    /// <summary>The key scope the endpoint needs (<c>read</c>, <c>ingest</c> or <c>admin</c>).</summary>
    public string RequiredScope { get; }

    /// <summary>Seconds the server asked to wait before retrying (429/503), when it said.</summary>
    public TimeSpan? RetryAfter { get; init; }

    private static string BuildMessage(HttpStatusCode status, LedgerProblem? problem, string requestPath)
    {
        var title = problem?.Title ?? status.ToString();
        var detail = string.IsNullOrWhiteSpace(problem?.Detail) ? string.Empty : ": " + problem.Detail;
        return $"{(int)status} {title}{detail} ({requestPath})";
    }
}
