namespace RunLedger.Core.Query;

/// <summary>
/// Parses the filter language shared by the API, the CLI and the dashboard, e.g.
/// <c>status:failed model:gpt-4o* cost&lt;0.01 started&gt;-24h "refund policy"</c>.
/// </summary>
public static class FilterParser
{
    /// <summary>
    /// Parses <paramref name="text"/> for <paramref name="target"/>. Returns null for null, empty
    /// or blank text (no filter). Field names and enum values come back canonical.
    /// </summary>
    /// <exception cref="FilterSyntaxException">The text is not a valid filter; the message says where and why.</exception>
    public static FilterNode? Parse(string? text, FilterTarget target)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        return new FilterTextParser(text, target).ParseAll();
    }
}
