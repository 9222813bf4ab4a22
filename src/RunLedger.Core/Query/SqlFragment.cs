namespace RunLedger.Core.Query;

/// <summary>
/// A parameterized SQL boolean expression (for a WHERE clause) and its parameters, named
/// <c>@q0</c>, <c>@q1</c>, ... in the order they were added.
/// </summary>
public sealed record SqlFragment(string Sql, IReadOnlyList<KeyValuePair<string, object?>> Parameters);
