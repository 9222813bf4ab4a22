using RunLedger.Core.Ingest;

namespace RunLedger.Core.Tests.Ingest;

public sealed class LedgerChangeNotifierTests
{
    [Fact]
    public async Task PublishAll_WakesWaitersOfEveryProject()
    {
        var notifier = new LedgerChangeNotifier();
        var first = notifier.WaitAsync(1, 10, TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken);
        var second = notifier.WaitAsync(2, 20, TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken);
        first.IsCompleted.ShouldBeFalse();

        notifier.PublishAll();

        await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        notifier.LastPublished(1).ShouldBeNull("waking everyone says nothing about any project's last event");
    }

    [Fact]
    public async Task Publish_NewerEvent_CompletesWaitAtOnce()
    {
        var notifier = new LedgerChangeNotifier();
        var waiting = notifier.WaitAsync(7, 5, TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken);

        notifier.Publish(7, 6);

        await waiting.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        notifier.LastPublished(7).ShouldBe(6);
        notifier.WaitAsync(7, 5, TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken).IsCompleted.ShouldBeTrue("an event newer than the reader's is already known");
    }
}
