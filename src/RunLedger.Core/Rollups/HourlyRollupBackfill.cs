using System.Data.Common;

namespace RunLedger.Core.Rollups;

/// <summary>
/// Adds the hourly rollup rows of a ledger from its 5-minute rows (see <see cref="HourlyRollupFold"/>):
/// reads the 5-minute rows in pages in key order, same SQL on both stores, and hands each page's
/// completed hourly rows to the store to write. Used by the migration that adds the hourly tier,
/// so an upgraded ledger answers stats from hourly rows as a new one does.
/// </summary>
public static class HourlyRollupBackfill
{
    private const int PageSize = 5_000;

    private const string Select =
        "SELECT project_id, bucket_start, kind, name, model, status, count, errors, input_tokens, output_tokens, cost_nanos, " +
        "duration_count, duration_sum, duration_min, duration_max, histogram FROM rollups WHERE +bucket_size = 300";

    // The whole primary key (bucket_size included) in the cursor and the order, so both stores
    // walk the key's index from the cursor on instead of scanning and sorting the table per page
    // (the unary plus keeps SQLite from planning the size as an equality and sorting the rest).
    private const string After = " AND (project_id, bucket_size, bucket_start, kind, name, model, status) > (@p, 300, @start, @kind, @name, @model, @status)";

    private const string Order = " ORDER BY project_id, bucket_size, bucket_start, kind, name, model, status LIMIT 5000";

    /// <summary>
    /// Folds every 5-minute row into hourly rows and passes them to <paramref name="write"/>, a
    /// page at a time, on <paramref name="connection"/> (in <paramref name="transaction"/> when
    /// the store needs it named); returns how many hourly rows were written.
    /// </summary>
    public static async Task<long> RunAsync(
        DbConnection connection,
        DbTransaction? transaction,
        Func<IReadOnlyList<KeyValuePair<RollupKey, RollupFigures>>, CancellationToken, Task> write,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(write);
        var fold = new HourlyRollupFold();
        RollupKey? last = null;
        long written = 0;
        while (true)
        {
            var page = new List<(RollupKey Key, RollupFigures Figures)>(PageSize);
            await using (var command = connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = Select + (last is null ? string.Empty : After) + Order;
                if (last is { } after)
                {
                    Add(command, "@p", after.ProjectId);
                    Add(command, "@start", after.BucketStart);
                    Add(command, "@kind", after.Kind);
                    Add(command, "@name", after.Name);
                    Add(command, "@model", after.Model);
                    Add(command, "@status", after.Status);
                }

                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    page.Add(Read(reader));
                }
            }

            var completed = new List<KeyValuePair<RollupKey, RollupFigures>>();
            foreach (var (key, figures) in page)
            {
                completed.AddRange(fold.Add(key, figures));
            }

            if (page.Count < PageSize)
            {
                completed.AddRange(fold.Complete());
            }

            if (completed.Count > 0)
            {
                await write(completed, cancellationToken).ConfigureAwait(false);
                written += completed.Count;
            }

            if (page.Count < PageSize)
            {
                return written;
            }

            last = page[^1].Key;
        }
    }

    private static (RollupKey, RollupFigures) Read(DbDataReader r) =>
        (new RollupKey(r.GetInt64(0), RollupDeltas.FiveMinutes, r.GetInt64(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5)), RollupFigures.Read(r, 6));

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
