namespace RunLedger.Sqlite.Query;

/// <summary>
/// A parameterized SQL boolean expression (for a WHERE clause) and its parameters, named
/// <c>@q0</c>, <c>@q1</c>, ... Values are <see cref="string"/>, <see cref="long"/>,
/// <see cref="double"/> or <see cref="byte"/> arrays.
/// </summary>
internal sealed record SqlFragment(string Sql, IReadOnlyList<KeyValuePair<string, object?>> Parameters);
