namespace RunLedger.Core.Ingest;

/// <summary>
/// The whole request is refused (nothing of it is stored): a field is over a limit, or there are
/// too many items. <see cref="Field"/> is a JSON path such as <c>$.runs[3].name</c>.
/// </summary>
public sealed class IngestRequestException : Exception
{
    public IngestRequestException(string field, string message, int statusCode = 400)
        : base(message)
    {
        Field = field;
        StatusCode = statusCode;
    }

    public IngestRequestException()
    {
        Field = "$";
        StatusCode = 400;
    }

    public IngestRequestException(string message)
        : base(message)
    {
        Field = "$";
        StatusCode = 400;
    }

    public IngestRequestException(string message, Exception innerException)
        : base(message, innerException)
    {
        Field = "$";
        StatusCode = 400;
    }

    public string Field { get; }

    /// <summary>400 for a field over its limit, 413 for too many items.</summary>
    public int StatusCode { get; }
}
