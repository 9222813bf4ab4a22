using System.Globalization;
using System.Text.RegularExpressions;

namespace RunLedger.Cli.Rendering;

/// <summary>Human-friendly numbers, durations, costs and times; always invariant culture, times in UTC.</summary>
internal static partial class Format
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public const string None = "-";

    public static string Duration(double? milliseconds)
    {
        if (milliseconds is not { } ms || double.IsNaN(ms))
        {
            return None;
        }

        return ms switch
        {
            < 1 => "<1 ms",
            < 1_000 => ms.ToString("0", Invariant) + " ms",
            < 10_000 => (ms / 1_000).ToString("0.00", Invariant) + " s",
            < 60_000 => (ms / 1_000).ToString("0.0", Invariant) + " s",
            < 3_600_000 => string.Create(Invariant, $"{(int)(ms / 60_000)}m {(int)(ms / 1_000 % 60):00}s"),
            _ => string.Create(Invariant, $"{(int)(ms / 3_600_000)}h {(int)(ms / 60_000 % 60):00}m"),
        };
    }

    public static string Cost(decimal? usd)
    {
        if (usd is not { } value)
        {
            return None;
        }

        var magnitude = Math.Abs(value);
        return magnitude switch
        {
            0m => "$0",
            < 0.01m => "$" + value.ToString("0.0000", Invariant),
            < 1_000m => "$" + value.ToString("0.00", Invariant),
            _ => "$" + value.ToString("#,0", Invariant),
        };
    }

    public static string Tokens(long? tokens)
    {
        if (tokens is not { } value)
        {
            return None;
        }

        return Math.Abs(value) switch
        {
            < 10_000 => value.ToString("#,0", Invariant),
            < 1_000_000 => (value / 1_000d).ToString("0.#", Invariant) + "k",
            < 1_000_000_000 => (value / 1_000_000d).ToString("0.##", Invariant) + "M",
            _ => (value / 1_000_000_000d).ToString("0.##", Invariant) + "B",
        };
    }

    public static string Count(long value) => value.ToString("#,0", Invariant);

    public static string Percent(double ratio) =>
        ratio switch
        {
            0 => "0%",
            < 0.001 => "<0.1%",
            _ => (ratio * 100).ToString("0.#", Invariant) + "%",
        };

    /// <summary>An absolute time in UTC: <c>2026-11-21 23:10:02Z</c>.</summary>
    public static string Utc(DateTimeOffset? time) =>
        time is { } value ? value.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", Invariant) : None;

    /// <summary>How long ago: <c>just now</c>, <c>12m ago</c>, <c>3h ago</c>, <c>4d ago</c>, or the date when older.</summary>
    public static string Ago(DateTimeOffset? time, DateTimeOffset now)
    {
        if (time is not { } value)
        {
            return None;
        }

        var age = now - value;
        return age.TotalSeconds switch
        {
            < -60 => "in " + Span(-age),
            < 60 => "just now",
            < 3_600 * 48 => Span(age) + " ago",
            < 86_400 * 30 => ((int)age.TotalDays).ToString(Invariant) + "d ago",
            _ => value.UtcDateTime.ToString("yyyy-MM-dd", Invariant),
        };
    }

    /// <summary>A span in its largest two units: <c>45s</c>, <c>12m</c>, <c>3h 05m</c>.</summary>
    public static string Span(TimeSpan span)
    {
        if (span < TimeSpan.Zero)
        {
            span = -span;
        }

        return span.TotalSeconds switch
        {
            < 60 => ((int)span.TotalSeconds).ToString(Invariant) + "s",
            < 3_600 => ((int)span.TotalMinutes).ToString(Invariant) + "m",
            < 86_400 => span.Minutes == 0
                ? ((int)span.TotalHours).ToString(Invariant) + "h"
                : string.Create(Invariant, $"{(int)span.TotalHours}h {span.Minutes:00}m"),
            _ => string.Create(Invariant, $"{(int)span.TotalDays}d {span.Hours}h"),
        };
    }

    /// <summary>The first line of <paramref name="text"/>, cut to <paramref name="max"/> characters with an ellipsis.</summary>
    public static string OneLine(string? text, int max)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        var line = WhitespaceRun().Replace(text, " ").Trim();
        return line.Length <= max ? line : line[..Math.Max(0, max - 1)] + "…";
    }

    /// <summary>Parses a look-back such as <c>12h</c>, <c>-30m</c>, <c>7d</c>, <c>2w</c> into the relative form the API takes (<c>-12h</c>).</summary>
    public static bool TryParseLookBack(string? text, out string relative, out TimeSpan span)
    {
        relative = string.Empty;
        span = TimeSpan.Zero;
        var match = text is null ? Match.Empty : LookBack().Match(text.Trim());
        if (!match.Success)
        {
            return false;
        }

        var amount = double.Parse(match.Groups["n"].Value, NumberStyles.AllowDecimalPoint, Invariant);
        span = match.Groups["u"].Value switch
        {
            "s" => TimeSpan.FromSeconds(amount),
            "m" => TimeSpan.FromMinutes(amount),
            "h" => TimeSpan.FromHours(amount),
            "d" => TimeSpan.FromDays(amount),
            _ => TimeSpan.FromDays(amount * 7),
        };
        if (span <= TimeSpan.Zero)
        {
            return false;
        }

        relative = "-" + match.Groups["n"].Value + match.Groups["u"].Value;
        return true;
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhitespaceRun();

    [GeneratedRegex(@"^-?(?<n>\d+(\.\d+)?)(?<u>[smhdw])$", RegexOptions.CultureInvariant)]
    private static partial Regex LookBack();
}
