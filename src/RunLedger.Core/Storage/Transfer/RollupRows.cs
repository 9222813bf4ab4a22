using System.Data.Common;

namespace RunLedger.Core.Storage.Transfer;

/// <summary>
/// How both stores page through their <c>rollups</c> table for an export: the same columns, the
/// same order (the primary key), the same cursor and the same mapping to <see cref="RollupRecord"/>.
/// </summary>
public static class RollupRows
{
    /// <summary>The columns <see cref="Read"/> expects, in its order.</summary>
    public const string Columns =
        "bucket_size, bucket_start, kind, name, model, status, count, errors, input_tokens, output_tokens, cost_nanos, " +
        "duration_count, duration_sum, duration_min, duration_max, histogram";

    /// <summary>The export order: the table's primary key.</summary>
    public const string Order = "bucket_size, bucket_start, kind, name, model, status";

    /// <summary>The condition for rows after the cursor <see cref="BindAfter"/> binds.</summary>
    public const string After = "(bucket_size, bucket_start, kind, name, model, status) > (@size, @start, @kind, @name, @model, @status)";

    /// <summary>Binds the cursor of <see cref="After"/> to the last row of the previous page.</summary>
    public static void BindAfter(DbCommand command, RollupRecord after)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(after);
        Add(command, "@size", after.BucketSize);
        Add(command, "@start", after.BucketStart);
        Add(command, "@kind", after.Kind);
        Add(command, "@name", after.Name);
        Add(command, "@model", after.Model);
        Add(command, "@status", after.Status);
    }

    /// <summary>The row under <paramref name="r"/>, selected with <see cref="Columns"/>.</summary>
    public static RollupRecord Read(DbDataReader r, string project)
    {
        ArgumentNullException.ThrowIfNull(r);
        return new RollupRecord
        {
            Project = project,
            BucketSize = r.GetInt64(0),
            BucketStart = r.GetInt64(1),
            Kind = r.GetString(2),
            Name = r.GetString(3),
            Model = r.GetString(4),
            Status = r.GetString(5),
            Count = r.GetInt64(6),
            Errors = r.GetInt64(7),
            InputTokens = r.GetInt64(8),
            OutputTokens = r.GetInt64(9),
            CostNanos = r.GetInt64(10),
            DurationCount = r.GetInt64(11),
            DurationSum = r.GetInt64(12),
            DurationMin = r.IsDBNull(13) ? null : r.GetInt64(13),
            DurationMax = r.IsDBNull(14) ? null : r.GetInt64(14),
            Histogram = r.IsDBNull(15) ? null : r.GetFieldValue<byte[]>(15),
        };
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
