using System.Globalization;
using RunLedger.Cli.Rendering;
using RunLedger.Core.Storage.Transfer;
using Spectre.Console;

namespace RunLedger.Cli.Transfer;

/// <summary>
/// Shows how far a copy is: a Spectre progress bar on a terminal, or a plain line every tenth of
/// the way (and at most every few seconds) when output is redirected.
/// </summary>
internal static class TransferProgressView
{
    public static async Task<T> RunAsync<T>(CliHost host, string title, Func<IProgress<CopyProgress>, Task<T>> work)
    {
        if (host.Console.Profile.Capabilities.Interactive)
        {
            T result = default!;
            await host.Console.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask(Markup.Escape(title), maxValue: 1);
                    var progress = new Inline(value =>
                    {
                        task.MaxValue = Math.Max(1, value.Total ?? value.Done);
                        task.Value = Math.Min(task.MaxValue, value.Done);
                        task.Description = Markup.Escape($"{title} {Format.Count(value.Done)}");
                    });
                    result = await work(progress).ConfigureAwait(false);
                    task.Value = task.MaxValue;
                }).ConfigureAwait(false);
            return result;
        }

        var nextShare = 0.1;
        var lastLine = DateTimeOffset.MinValue;
        var plain = new Inline(value =>
        {
            var share = value.Total is > 0 ? (double)value.Done / value.Total.Value : 0;
            var now = host.Time.GetUtcNow();
            if (share < nextShare && now - lastLine < TimeSpan.FromSeconds(5))
            {
                return;
            }

            while (nextShare <= share)
            {
                nextShare += 0.1;
            }

            lastLine = now;
            var total = value.Total is { } t ? "/" + Format.Count(t) : string.Empty;
            var percent = value.Total is > 0 ? string.Create(CultureInfo.InvariantCulture, $" ({Math.Min(100, share * 100):0}%)") : string.Empty;
            host.Output.WriteLine($"{title} {Format.Count(value.Done)}{total} records{percent}");
        });
        return await work(plain).ConfigureAwait(false);
    }

    /// <summary>Reports on the caller's thread, so the view is up to date when the copy returns.</summary>
    private sealed class Inline(Action<CopyProgress> report) : IProgress<CopyProgress>
    {
        public void Report(CopyProgress value) => report(value);
    }
}
