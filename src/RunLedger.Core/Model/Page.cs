namespace RunLedger.Core.Model;

/// <summary>One page of a keyset-paginated listing. <see cref="NextCursor"/> is null on the last page.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);
