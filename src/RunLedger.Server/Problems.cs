using Microsoft.AspNetCore.Http.HttpResults;

namespace RunLedger.Server;

/// <summary>Every error the API gives is an RFC 9457 problem with a message a person can act on.</summary>
internal static class Problems
{
    public const string TypeBase = "https://runledger.dev/problems/";

    public static ProblemHttpResult Create(int status, string type, string title, string detail, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title, type: TypeBase + type, extensions: extensions);

    public static ProblemHttpResult BadRequest(string type, string detail, string? field = null, int? column = null)
    {
        var extensions = new Dictionary<string, object?>();
        if (field is not null)
        {
            extensions["field"] = field;
        }

        if (column is not null)
        {
            extensions["column"] = column;
        }

        return Create(StatusCodes.Status400BadRequest, type, "The request is not valid.", detail, extensions);
    }

    public static ProblemHttpResult NotFound(string what, string id) =>
        Create(StatusCodes.Status404NotFound, "not-found", $"No such {what}.", $"There is no {what} '{id}' in this key's project.");

    public static ProblemHttpResult Unauthorized(string detail) =>
        Create(StatusCodes.Status401Unauthorized, "unauthorized", "A valid API key is needed.", detail);

    public static ProblemHttpResult Forbidden(string detail) =>
        Create(StatusCodes.Status403Forbidden, "forbidden", "The key lacks the scope this needs.", detail);

    public static ProblemHttpResult Unavailable(string detail) =>
        Create(StatusCodes.Status503ServiceUnavailable, "unavailable", "The ledger cannot take this now.", detail);
}
