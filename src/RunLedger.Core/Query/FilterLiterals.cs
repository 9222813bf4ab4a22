using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace RunLedger.Core.Query;

/// <summary>Parsing and canonical formatting of numbers, durations and times (invariant culture).</summary>
public static partial class FilterLiterals
{
    private const long TicksPerMillisecond = TimeSpan.TicksPerMillisecond;

    private static readonly (string Unit, long Ticks)[] FormatUnits =
    [
        ("d", TimeSpan.TicksPerDay),
        ("h", TimeSpan.TicksPerHour),
        ("m", TimeSpan.TicksPerMinute),
        ("s", TimeSpan.TicksPerSecond),
        ("ms", TicksPerMillisecond),
    ];

    public static bool TryParseNumber(string text, out decimal number)
    {
        number = 0;
        if (!NumberRegex().IsMatch(text))
        {
            return false;
        }

        return decimal.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out number);
    }

    public static string FormatNumber(decimal number) => number.ToString(CultureInfo.InvariantCulture);

    /// <summary>Parses <c>250ms</c>, <c>30s</c>, <c>1.5m</c>, <c>2h</c>, <c>1d</c>, <c>1w</c> (no sign).</summary>
    public static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        var match = DurationRegex().Match(text);
        if (!match.Success)
        {
            return false;
        }

        if (!decimal.TryParse(match.Groups[1].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
        {
            return false;
        }

        var unitTicks = match.Groups[2].Value.ToUpperInvariant() switch
        {
            "MS" => TicksPerMillisecond,
            "S" => TimeSpan.TicksPerSecond,
            "M" => TimeSpan.TicksPerMinute,
            "H" => TimeSpan.TicksPerHour,
            "D" => TimeSpan.TicksPerDay,
            _ => TimeSpan.TicksPerDay * 7,
        };

        // TimeSpan.MaxValue is ~10.7 million days: anything larger is not a duration anyone means.
        if (amount > TimeSpan.MaxValue.Ticks / (decimal)unitTicks)
        {
            return false;
        }

        duration = TimeSpan.FromTicks((long)decimal.Round(amount * unitTicks, MidpointRounding.AwayFromZero));
        return true;
    }

    /// <summary>Canonical text of a non-negative duration: the largest exact unit, else milliseconds with decimals.</summary>
    public static string FormatDuration(TimeSpan duration)
    {
        var ticks = duration.Ticks;
        if (ticks < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(duration), duration, "A filter duration cannot be negative.");
        }

        if (ticks == 0)
        {
            return "0s";
        }

        foreach (var (unit, unitTicks) in FormatUnits)
        {
            if (ticks % unitTicks == 0)
            {
                return (ticks / unitTicks).ToString(CultureInfo.InvariantCulture) + unit;
            }
        }

        return (ticks / (decimal)TicksPerMillisecond).ToString(CultureInfo.InvariantCulture) + "ms";
    }

    /// <summary>Parses <c>-24h</c> (past) or <c>+1h</c> (future).</summary>
    public static bool TryParseRelativeTime(string text, out TimeSpan offset)
    {
        offset = TimeSpan.Zero;
        if (text.Length < 2 || (text[0] != '-' && text[0] != '+'))
        {
            return false;
        }

        if (!TryParseDuration(text[1..], out var duration))
        {
            return false;
        }

        offset = text[0] == '-' ? -duration : duration;
        return true;
    }

    public static string FormatRelativeTime(TimeSpan offset) =>
        offset <= TimeSpan.Zero ? "-" + FormatDuration(-offset) : "+" + FormatDuration(offset);

    /// <summary>
    /// Parses <c>2026-11-01</c>, <c>2026-11-01T08:00</c>, <c>2026-11-01T08:00:00</c>, optional
    /// fraction (up to 7 digits) and optional <c>Z</c> or <c>+hh:mm</c>; no offset means UTC.
    /// The result is always at offset zero.
    /// </summary>
    public static bool TryParseAbsoluteTime(string text, out DateTimeOffset time)
    {
        time = default;
        var match = TimeRegex().Match(text);
        if (!match.Success)
        {
            return false;
        }

        try
        {
            var offset = TimeSpan.Zero;
            var zone = match.Groups["zone"].Value;
            if (zone.Length > 1)
            {
                var hours = Int(match.Groups["zh"].Value);
                var minutes = Int(match.Groups["zm"].Value);
                if (hours > 14 || minutes > 59)
                {
                    return false;
                }

                offset = new TimeSpan(hours, minutes, 0);
                if (zone[0] == '-')
                {
                    offset = -offset;
                }
            }

            var value = new DateTimeOffset(
                Int(match.Groups["y"].Value),
                Int(match.Groups["mo"].Value),
                Int(match.Groups["d"].Value),
                Opt(match.Groups["h"]),
                Opt(match.Groups["mi"]),
                Opt(match.Groups["s"]),
                offset);
            var fraction = match.Groups["f"].Value;
            if (fraction.Length > 0)
            {
                value = value.AddTicks(Int(fraction.PadRight(7, '0')));
            }

            time = value.ToUniversalTime();
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    /// <summary>Canonical text of a time: <c>2026-11-01</c> at midnight UTC, else <c>2026-11-01T08:00:00.5Z</c>.</summary>
    public static string FormatAbsoluteTime(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        if (utc.TimeOfDay == TimeSpan.Zero)
        {
            return utc.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        }

        var builder = new StringBuilder(utc.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture));
        var fraction = utc.Ticks % TimeSpan.TicksPerSecond;
        if (fraction != 0)
        {
            builder.Append('.').Append(fraction.ToString("0000000", CultureInfo.InvariantCulture).TrimEnd('0'));
        }

        return builder.Append('Z').ToString();
    }

    private static int Int(string text) => int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);

    private static int Opt(Group group) => group.Success ? Int(group.Value) : 0;

    [GeneratedRegex(@"^-?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)$", RegexOptions.CultureInvariant)]
    private static partial Regex NumberRegex();

    [GeneratedRegex(@"^([0-9]+(?:\.[0-9]+)?|\.[0-9]+)(ms|s|m|h|d|w)$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex DurationRegex();

    [GeneratedRegex(
        @"^(?<y>[0-9]{4})-(?<mo>[0-9]{2})-(?<d>[0-9]{2})(?:[Tt](?<h>[0-9]{2}):(?<mi>[0-9]{2})(?::(?<s>[0-9]{2})(?:\.(?<f>[0-9]{1,7}))?)?(?<zone>[Zz]|[+-](?<zh>[0-9]{2}):(?<zm>[0-9]{2}))?)?$",
        RegexOptions.CultureInvariant)]
    private static partial Regex TimeRegex();
}
