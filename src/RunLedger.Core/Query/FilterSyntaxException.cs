namespace RunLedger.Core.Query;

/// <summary>
/// A filter that cannot be parsed. <see cref="Exception.Message"/> starts with the column and
/// says what was expected, e.g. <c>column 8: expected a value after 'status:' (one of running, ...)</c>.
/// </summary>
public sealed class FilterSyntaxException : FormatException
{
    public FilterSyntaxException()
        : this("The filter is not valid.", 0, "a valid filter")
    {
    }

    public FilterSyntaxException(string message)
        : this(message, 0, "a valid filter")
    {
    }

    public FilterSyntaxException(string message, Exception innerException)
        : base(message, innerException)
    {
        Expected = "a valid filter";
    }

    public FilterSyntaxException(string message, int position, string expected)
        : base(message)
    {
        Position = position;
        Expected = expected;
    }

    /// <summary>Zero-based offset in the filter text where the problem is.</summary>
    public int Position { get; }

    /// <summary>One-based column (Position + 1), as shown in the message.</summary>
    public int Column => Position + 1;

    /// <summary>What the parser expected at <see cref="Position"/>, e.g. "a number, such as cost&lt;0.01".</summary>
    public string Expected { get; }
}
