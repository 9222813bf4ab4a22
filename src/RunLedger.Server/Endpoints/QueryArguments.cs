using System.Globalization;
using RunLedger.Core.Query;

namespace RunLedger.Server.Endpoints;

/// <summary>Parses query-string arguments, turning mistakes into messages that say what was expected.</summary>
internal static class QueryArguments
{
    public const int MaxLimit = 1000;

    /// <summary>Parses a filter; on a mistake returns the error text and its column.</summary>
    public static bool TryParseFilter(string? q, FilterTarget target, out FilterNode? filter, out (string Message, int Column)? error)
    {
        error = null;
        try
        {
            filter = FilterParser.Parse(q, target);
            return true;
        }
        catch (FilterSyntaxException ex)
        {
            filter = null;
            error = (ex.Message, ex.Column);
            return false;
        }
    }

    public static bool TryParseLimit(string? text, int fallback, out int limit, out string? error)
    {
        error = null;
        limit = fallback;
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > MaxLimit)
        {
            error = string.Create(CultureInfo.InvariantCulture, $"limit: '{text}' must be a whole number from 1 to {MaxLimit}.");
            return false;
        }

        return true;
    }

    /// <summary>A span such as 90s, 15m, 1h, 7d, 2w (the filter language's duration syntax).</summary>
    public static bool TryParseSpan(string text, out TimeSpan span) =>
        FilterLiterals.TryParseDuration(text.Trim(), out span) && span > TimeSpan.Zero;

    /// <summary>A time: relative to now (<c>-24h</c>, <c>now</c>) or absolute (<c>2026-11-01</c>, ISO 8601; UTC unless an offset is given).</summary>
    public static bool TryParseTime(string text, DateTimeOffset now, out DateTimeOffset time)
    {
        time = default;
        text = text.Trim();
        if (text.Equals("now", StringComparison.OrdinalIgnoreCase))
        {
            time = now;
            return true;
        }

        if (FilterLiterals.TryParseRelativeTime(text, out var offset))
        {
            time = now + offset;
            return true;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);
    }
}
