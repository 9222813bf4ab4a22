using System.Globalization;
using Npgsql;
using RunLedger.Core.Storage;

namespace RunLedger.Postgres;

/// <summary>
/// The monthly partitions of <c>runs</c> (by started_at) and <c>events</c> (by time). Known
/// months are cached; a write into a month without a partition creates it first, so a run far in
/// the past or the future still lands. Creation happens in the writer's transaction under its
/// advisory lock (replicas never race) and enters the cache only once that transaction commits.
/// </summary>
internal sealed class Partitions
{
    private readonly HashSet<(string Table, int Month)> _known = [];
    private readonly Lock _gate = new();

    public static readonly string[] Tables = ["runs", "events"];

    /// <summary>Month number (year * 12 + month - 1) of a time in microseconds.</summary>
    public static int MonthOf(long micros)
    {
        var time = StorageUnits.FromMicros(Math.Clamp(micros, StorageUnits.ToMicros(DateTimeOffset.MinValue), StorageUnits.ToMicros(DateTimeOffset.MaxValue)));
        return (time.Year * 12) + time.Month - 1;
    }

    public bool IsKnown(string table, int month)
    {
        lock (_gate)
        {
            return _known.Contains((table, month));
        }
    }

    public void MarkKnown(IEnumerable<(string Table, int Month)> created)
    {
        lock (_gate)
        {
            _known.UnionWith(created);
        }
    }

    /// <summary>Loads the partitions that exist into the cache.</summary>
    public async Task LoadAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT p.relname, c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent " +
            "WHERE p.relname = ANY(@tables) AND p.relnamespace = current_schema()::regnamespace",
            connection);
        command.Parameters.AddWithValue("tables", Tables);
        var found = new List<(string, int)>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (ParseName(reader.GetString(0), reader.GetString(1)) is { } month)
                {
                    found.Add((reader.GetString(0), month));
                }
            }
        }

        MarkKnown(found);
    }

    /// <summary>
    /// Creates the partitions of <paramref name="months"/> not known yet (IF NOT EXISTS: another
    /// replica may have made them) and returns the ones this call touched, to mark after commit.
    /// </summary>
    public async Task<List<(string Table, int Month)>> EnsureAsync(NpgsqlConnection connection, IEnumerable<(string Table, int Month)> months, CancellationToken cancellationToken)
    {
        var missing = months.Distinct().Where(m => !IsKnown(m.Table, m.Month)).ToList();
        foreach (var (table, month) in missing)
        {
            await using var command = new NpgsqlCommand(CreateSql(table, month), connection);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        return missing;
    }

    /// <summary>The partition table name of a month: runs_y2026m11.</summary>
    public static string Name(string table, int month) =>
        string.Create(CultureInfo.InvariantCulture, $"{table}_y{month / 12:D4}m{(month % 12) + 1:D2}");

    private static string CreateSql(string table, int month)
    {
        var year = month / 12;
        var from = StorageUnits.ToMicros(new DateTimeOffset(year, (month % 12) + 1, 1, 0, 0, 0, TimeSpan.Zero));
        var to = year == 9999 && month % 12 == 11
            ? "MAXVALUE"
            : StorageUnits.ToMicros(new DateTimeOffset(year, (month % 12) + 1, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(1)).ToString(CultureInfo.InvariantCulture);
        var low = year == 1 && month % 12 == 0 ? "MINVALUE" : from.ToString(CultureInfo.InvariantCulture);
        return $"CREATE TABLE IF NOT EXISTS {Name(table, month)} PARTITION OF {table} FOR VALUES FROM ({low}) TO ({to})";
    }

    private static int? ParseName(string table, string name)
    {
        var prefix = table + "_y";
        if (!name.StartsWith(prefix, StringComparison.Ordinal) || name.Length != prefix.Length + 7 || name[prefix.Length + 4] != 'm')
        {
            return null;
        }

        return int.TryParse(name.AsSpan(prefix.Length, 4), NumberStyles.None, CultureInfo.InvariantCulture, out var year)
            && int.TryParse(name.AsSpan(prefix.Length + 5, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var month)
            ? (year * 12) + month - 1
            : null;
    }
}
