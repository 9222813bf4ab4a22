using RunLedger.Core.Model;

namespace RunLedger.Cli.Commands;

/// <summary>Follows <c>nextCursor</c> until enough items (or all of them) are collected.</summary>
internal static class Paging
{
    public const int MaxPageSize = 1000;

    /// <param name="fetch">Gets one page: (page size, cursor) to the page.</param>
    /// <param name="max">How many items at most; null for every item.</param>
    public static async Task<Page<T>> CollectAsync<T>(Func<int, string?, Task<Page<T>>> fetch, int? max)
    {
        var items = new List<T>();
        string? cursor = null;
        do
        {
            var pageSize = max is { } cap ? Math.Clamp(cap - items.Count, 1, MaxPageSize) : MaxPageSize;
            var page = await fetch(pageSize, cursor).ConfigureAwait(false);
            items.AddRange(max is { } remaining ? page.Items.Take(remaining - items.Count) : page.Items);
            cursor = page.NextCursor;
        }
        while (cursor is not null && (max is null || items.Count < max));

        return new Page<T>(items, cursor);
    }
}
