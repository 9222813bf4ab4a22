using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;
using RunLedger.Core.Storage;

namespace RunLedger.Postgres;

/// <summary>
/// Hears the commits of every server process on the database: a dedicated connection runs
/// <c>LISTEN</c> on the channel the writer notifies inside each write transaction (PostgreSQL
/// delivers a notification only when its transaction commits, so nothing uncommitted is ever
/// announced). The payload is <c>&lt;projectId&gt;:&lt;lastEventId&gt;</c>.
/// <para>
/// When the connection drops (the database restarted, a network cut) it reconnects with a
/// growing, jittered delay and then wakes every reader once, because commits made while it was
/// not listening were not heard; readers read the event table, so they catch up exactly. An idle
/// connection is probed now and then, since a silently dropped TCP connection would otherwise
/// never raise an error and the listener would wait forever.
/// </para>
/// </summary>
internal sealed partial class PostgresChangeListener(NpgsqlDataSource dataSource, string channel)
{
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LongestRetryDelay = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(30);

    public async Task ListenAsync(ILedgerChangeSink sink, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(logger);
        var delay = FirstRetryDelay;
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                connection.Notification += (_, e) => Deliver(sink, e.Payload);
                await using (var listen = connection.CreateCommand())
                {
                    listen.CommandText = "LISTEN " + QuoteIdentifier(channel);
                    await listen.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                if (failures > 0)
                {
                    LogReconnected(logger, channel, failures);
                }

                failures = 0;
                delay = FirstRetryDelay;

                // Anything committed before LISTEN took effect was not heard.
                sink.PublishAll();
                while (true)
                {
                    if (!await connection.WaitAsync(ProbeInterval, cancellationToken).ConfigureAwait(false))
                    {
                        await using var probe = connection.CreateCommand();
                        probe.CommandText = "SELECT 1";
                        await probe.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
            {
                // Npgsql raises NpgsqlException (or PostgresException, e.g. 57P01 on shutdown)
                // for a lost server; keep trying for as long as the server runs.
                failures++;
                if (failures == 1)
                {
                    LogLost(logger, ex, channel);
                }

                var jittered = delay * (0.5 + (Random.Shared.NextDouble() / 2));
                await Task.Delay(jittered, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LongestRetryDelay.Ticks));
            }
        }
    }

    /// <summary>Parses <c>projectId:lastEventId</c>; anything else wakes every reader rather than be dropped.</summary>
    internal static void Deliver(ILedgerChangeSink sink, string payload)
    {
        var colon = payload.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0
            && long.TryParse(payload.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var projectId)
            && long.TryParse(payload.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var lastEventId))
        {
            sink.Publish(projectId, lastEventId);
        }
        else
        {
            sink.PublishAll();
        }
    }

    private static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    [LoggerMessage(EventId = 300, Level = LogLevel.Warning, Message = "Lost the PostgreSQL connection listening on '{Channel}'; live streams fall back to polling until it is back. Reconnecting")]
    private static partial void LogLost(ILogger logger, Exception exception, string channel);

    [LoggerMessage(EventId = 301, Level = LogLevel.Information, Message = "Listening on '{Channel}' again after {Failures} failed attempts")]
    private static partial void LogReconnected(ILogger logger, string channel, int failures);
}
