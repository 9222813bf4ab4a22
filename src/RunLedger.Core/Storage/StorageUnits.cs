namespace RunLedger.Core.Storage;

/// <summary>
/// How stores keep values they have no exact type for: times as microseconds since the Unix
/// epoch (UTC), money as integer nano-dollars so sums stay exact, ids as big-endian bytes so
/// UUIDv7 ids sort by time.
/// </summary>
public static class StorageUnits
{
    private const decimal NanosPerDollar = 1_000_000_000m;

    public static long ToMicros(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    public static DateTimeOffset FromMicros(long micros) => new(DateTimeOffset.UnixEpoch.UtcTicks + (micros * 10), TimeSpan.Zero);

    public static long ToNanos(decimal usd) => (long)decimal.Round(usd * NanosPerDollar, MidpointRounding.AwayFromZero);

    public static decimal FromNanos(long nanos) => nanos / NanosPerDollar;

    public static byte[] ToBytes(Guid id) => id.ToByteArray(bigEndian: true);

    public static Guid ToGuid(ReadOnlySpan<byte> bytes) => new(bytes, bigEndian: true);

    public static double MicrosToMillis(long micros) => micros / 1000.0;
}
