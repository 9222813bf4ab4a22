using System.Globalization;

namespace RunLedger.Benchmarks;

/// <summary>Invariant-culture formatting for tables.</summary>
internal static class Fmt
{
    public static string Number(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    public static string Rate(double perSecond) => perSecond.ToString("N0", CultureInfo.InvariantCulture);

    public static string Int(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Seconds(TimeSpan elapsed) => elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture);

    public static string Percent(double ratio) => (ratio * 100).ToString("0.0", CultureInfo.InvariantCulture) + " %";

    public static string Times(double ratio) => ratio.ToString("0.0", CultureInfo.InvariantCulture) + "x";
}
