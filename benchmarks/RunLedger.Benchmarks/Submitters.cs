using System.Diagnostics;

namespace RunLedger.Benchmarks;

/// <summary>Feeds a list of requests through a few concurrent submitters, in order, and times it.</summary>
internal static class Submitters
{
    public static async Task<(TimeSpan Elapsed, long Written)> RunAsync<T>(
        IReadOnlyList<T> items, int concurrency, Func<int, T, Task<int>> submit)
    {
        var next = -1;
        long written = 0;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(worker => Task.Run(async () =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < items.Count)
            {
                var count = await submit(worker, items[index]).ConfigureAwait(false);
                Interlocked.Add(ref written, count);
            }
        }));
        await Task.WhenAll(workers).ConfigureAwait(false);
        clock.Stop();
        return (clock.Elapsed, written);
    }
}
