using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using RunLedger.Core.Ingest;
using RunLedger.Core.Storage;

namespace RunLedger.Postgres.Tests.Store;

/// <summary>
/// The LISTEN side of replica fan-out against a real server: a commit through one store is heard
/// by another store on the same database, and a listener whose connection is killed comes back
/// by itself and wakes every reader once.
/// </summary>
public sealed class ChangeListenerTests(PostgresFixture postgres)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Listen_CommitThroughAnotherStore_IsHeardWithItsProjectAndLastEventId()
    {
        await using var writer = await PgStore.OpenAsync(postgres.Server);
        await using var reader = PgStore.Create(writer.ConnectionString);
        await reader.InitializeAsync(TestContext.Current.CancellationToken);
        var sink = new RecordingSink();
        using var stop = new CancellationTokenSource();
        var listening = reader.ListenAsync(sink, NullLogger.Instance, stop.Token);
        await sink.WaitAsync(s => s.Everything > 0, "the listener never connected");

        var outcome = await writer.WriteAsync(1, events: [new EventWrite { Type = "heartbeat", Time = PgStore.Day }]);

        await sink.WaitAsync(s => s.Published.Contains((1, outcome.LastEventId)), $"no notification 1:{outcome.LastEventId}");
        await stop.CancelAsync();
        await listening;
    }

    [Fact]
    public async Task Listen_ConnectionKilled_ReconnectsAndWakesEveryReaderOnce()
    {
        await using var store = await PgStore.OpenAsync(postgres.Server);
        var sink = new RecordingSink();
        using var stop = new CancellationTokenSource();
        var listening = store.Store.ListenAsync(sink, NullLogger.Instance, stop.Token);
        await sink.WaitAsync(s => s.Everything == 1, "the listener never connected");

        // Cut the listener's connection from the server side, as a restart or a proxy would.
        var killed = await store.ScalarAsync(
            $"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%{PostgresLedgerStore.EventsChannel}%'");
        killed.ShouldBe(1);

        await sink.WaitAsync(s => s.Everything == 2, "the listener did not reconnect and wake the readers");
        var outcome = await store.WriteAsync(1, events: [new EventWrite { Type = "heartbeat", Time = PgStore.Day }]);
        await sink.WaitAsync(s => s.Published.Contains((1, outcome.LastEventId)), "a commit after the reconnection was not heard");
        await stop.CancelAsync();
        await listening;
    }

    [Theory]
    [InlineData("12:345", 12L, 345L)]
    [InlineData("garbage", null, null)]
    [InlineData("1:", null, null)]
    [InlineData("-1:5", null, null)]
    public void Deliver_Payload_PublishesTheProjectOrWakesEveryone(string payload, long? project, long? lastEventId)
    {
        var sink = new RecordingSink();

        PostgresChangeListener.Deliver(sink, payload);

        if (project is null)
        {
            sink.Everything.ShouldBe(1, "an unreadable payload must not be dropped");
            sink.Published.ShouldBeEmpty();
        }
        else
        {
            sink.Published.ShouldBe([(project.Value, lastEventId!.Value)]);
            sink.Everything.ShouldBe(0);
        }
    }

    private sealed class RecordingSink : ILedgerChangeSink
    {
        private readonly Lock _gate = new();
        private readonly List<(long, long)> _published = [];
        private int _everything;

        public List<(long, long)> Published
        {
            get
            {
                lock (_gate)
                {
                    return [.. _published];
                }
            }
        }

        public int Everything => Volatile.Read(ref _everything);

        public void Publish(long projectId, long lastEventId)
        {
            lock (_gate)
            {
                _published.Add((projectId, lastEventId));
            }
        }

        public void PublishAll() => Interlocked.Increment(ref _everything);

        public async Task WaitAsync(Func<RecordingSink, bool> condition, string failure)
        {
            var deadline = DateTime.UtcNow + Patience;
            while (!condition(this))
            {
                DateTime.UtcNow.ShouldBeLessThan(deadline, failure);
                await Task.Delay(20, TestContext.Current.CancellationToken);
            }
        }
    }
}
