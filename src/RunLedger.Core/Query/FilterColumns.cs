namespace RunLedger.Core.Query;

/// <summary>
/// The column each filter field compiles to in the stores' tables (aliases <c>r</c> runs,
/// <c>e</c> events, <c>s</c> sessions); both stores use the same names, so the SQL compilers
/// share this map and the comparison operators.
/// </summary>
public static class FilterColumns
{
    public static string Column(FilterTarget target, string field) => (target, field) switch
    {
        (FilterTarget.Runs, "id") => "r.id",
        (FilterTarget.Runs, "session") => "r.session_id",
        (FilterTarget.Runs, "parent") => "r.parent_id",
        (FilterTarget.Runs, "kind") => "r.kind",
        (FilterTarget.Runs, "status") => "r.status",
        (FilterTarget.Runs, "name") => "r.name",
        (FilterTarget.Runs, "model") => "r.model",
        (FilterTarget.Runs, "provider") => "r.provider",
        (FilterTarget.Runs, "user") => "r.user_id",
        (FilterTarget.Runs, "source") => "r.source",
        (FilterTarget.Runs, "cost") => "r.cost_nanos",
        (FilterTarget.Runs, "input_tokens") => "r.input_tokens",
        (FilterTarget.Runs, "output_tokens") => "r.output_tokens",
        (FilterTarget.Runs, "total_tokens") => "r.total_tokens",
        (FilterTarget.Runs, "cached_tokens") => "r.cached_tokens",
        (FilterTarget.Runs, "reasoning_tokens") => "r.reasoning_tokens",
        (FilterTarget.Runs, "duration") => "r.duration_us",
        (FilterTarget.Runs, "started") => "r.started_at",
        (FilterTarget.Runs, "ended") => "r.ended_at",
        (FilterTarget.Runs, "error_type") => "r.error_type",
        (FilterTarget.Runs, "pinned") => "r.pinned",
        (FilterTarget.Events, "id") => "e.id",
        (FilterTarget.Events, "type") => "e.type",
        (FilterTarget.Events, "session") => "e.session_id",
        (FilterTarget.Events, "run") => "e.run_id",
        (FilterTarget.Events, "name") => "e.name",
        (FilterTarget.Events, "time") => "e.time",
        (FilterTarget.Sessions, "id") => "s.id",
        (FilterTarget.Sessions, "name") => "s.name",
        (FilterTarget.Sessions, "state") => "s.state",
        (FilterTarget.Sessions, "started") => "s.started_at",
        (FilterTarget.Sessions, "ended") => "s.ended_at",
        (FilterTarget.Sessions, "cost") => "s.cost_nanos",
        (FilterTarget.Sessions, "runs") => "s.run_count",
        (FilterTarget.Sessions, "failed") => "s.failed_count",
        (FilterTarget.Sessions, "input_tokens") => "s.input_tokens",
        (FilterTarget.Sessions, "output_tokens") => "s.output_tokens",
        _ => throw new ArgumentException($"Field '{field}' has no column for {FilterFields.Describe(target)}.", nameof(field)),
    };

    /// <summary>The SQL operator of an ordering or equality comparison (NotEqual is compiled as a negated Equal).</summary>
    public static string Operator(CompareOp op) => op switch
    {
        CompareOp.Equal => "=",
        CompareOp.Less => "<",
        CompareOp.LessOrEqual => "<=",
        CompareOp.Greater => ">",
        CompareOp.GreaterOrEqual => ">=",
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "NotEqual is compiled as a negated Equal."),
    };

    /// <summary>A character a metadata key may hold: letters, digits, '_', '.' and '-'.</summary>
    public static bool IsMetadataKeyChar(char c) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' or '.' or '-';
}
