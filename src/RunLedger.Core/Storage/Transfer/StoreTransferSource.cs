using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace RunLedger.Core.Storage.Transfer;

/// <summary>Reads a store's whole content in pages, in the canonical order, resumable from any page's position.</summary>
public sealed class StoreTransferSource : ITransferSource
{
    private readonly ILedgerTransfer _store;
    private readonly int _pageSize;

    public StoreTransferSource(ILedgerTransfer store, int pageSize = 500)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        _store = store;
        _pageSize = pageSize;
    }

    public Task<string> GetIdAsync(CancellationToken cancellationToken) => _store.GetStoreIdAsync(cancellationToken);

    public async Task<TransferCounts?> CountAsync(CancellationToken cancellationToken) =>
        await _store.CountAsync(cancellationToken).ConfigureAwait(false);

    public async IAsyncEnumerable<TransferPage> ReadAsync(string? position, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var from = position is null ? StorePosition.Start : StorePosition.Parse(position);
        var projects = (await _store.ExportProjectsAsync(cancellationToken).ConfigureAwait(false))
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .ToList();

        if (from.Phase <= TransferPhase.Projects)
        {
            yield return new TransferPage(projects, new StorePosition(TransferPhase.ApiKeys, null, null).ToString());
        }

        if (from.Phase <= TransferPhase.ApiKeys)
        {
            var keys = await _store.ExportApiKeysAsync(cancellationToken).ConfigureAwait(false);
            yield return new TransferPage(keys, new StorePosition(TransferPhase.Sessions, null, null).ToString());
        }

        if (from.Phase <= TransferPhase.Events)
        {
            var resumeProject = from.Phase >= TransferPhase.Sessions ? from.Project : null;
            foreach (var project in projects)
            {
                if (resumeProject is not null && string.CompareOrdinal(project.Name, resumeProject) < 0)
                {
                    continue;
                }

                var resuming = resumeProject is not null && project.Name == resumeProject;
                var phase = resuming ? from.Phase : TransferPhase.Sessions;
                var after = resuming ? from.After : null;
                await foreach (var page in ReadProjectAsync(project.Name, phase, after, cancellationToken).ConfigureAwait(false))
                {
                    yield return page;
                }
            }
        }
    }

    private async IAsyncEnumerable<TransferPage> ReadProjectAsync(string project, TransferPhase phase, string? after, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (phase <= TransferPhase.Sessions)
        {
            var afterSession = phase == TransferPhase.Sessions ? after : null;
            while (true)
            {
                var sessions = await _store.ExportSessionsAsync(project, afterSession, _pageSize, cancellationToken).ConfigureAwait(false);
                if (sessions.Count == 0)
                {
                    break;
                }

                afterSession = sessions[^1].Id;
                yield return new TransferPage(sessions, new StorePosition(TransferPhase.Sessions, project, afterSession).ToString());
            }
        }

        if (phase <= TransferPhase.Runs)
        {
            Guid? afterRun = phase == TransferPhase.Runs && after is not null ? Guid.Parse(after, CultureInfo.InvariantCulture) : null;
            while (true)
            {
                var runs = await _store.ExportRunsAsync(project, afterRun, _pageSize, cancellationToken).ConfigureAwait(false);
                if (runs.Count == 0)
                {
                    break;
                }

                afterRun = runs[^1].Id;
                yield return new TransferPage(runs, new StorePosition(TransferPhase.Runs, project, afterRun.Value.ToString()).ToString());
            }
        }

        var afterRollup = phase == TransferPhase.Rollups && after is not null ? JsonSerializer.Deserialize<RollupRecord>(after, LedgerJson.Options) : null;
        while (phase <= TransferPhase.Rollups)
        {
            var rollups = await _store.ExportRollupsAsync(project, afterRollup, _pageSize, cancellationToken).ConfigureAwait(false);
            var last = rollups.Count == _pageSize;
            var range = new RollupRangeRecord(project, afterRollup is null ? null : RollupKey.Of(afterRollup), last ? RollupKey.Of(rollups[^1]) : null);
            var records = new List<TransferRecord>(rollups.Count + 1) { range };
            records.AddRange(rollups);
            afterRollup = rollups.Count > 0 ? rollups[^1] : afterRollup;
            var key = afterRollup is null ? null : JsonSerializer.Serialize(afterRollup with { Histogram = null }, LedgerJson.Options);
            // Resuming from the last page of a project reads its (empty) remainder again, which is harmless.
            yield return new TransferPage(records, new StorePosition(TransferPhase.Rollups, project, key).ToString());
            if (!last)
            {
                break;
            }
        }

        var afterEvent = phase == TransferPhase.Events && after is not null ? long.Parse(after, CultureInfo.InvariantCulture) : 0;
        while (true)
        {
            var events = await _store.ExportEventsAsync(project, afterEvent, _pageSize, cancellationToken).ConfigureAwait(false);
            if (events.Count == 0)
            {
                break;
            }

            afterEvent = events[^1].Id;
            yield return new TransferPage(events, new StorePosition(TransferPhase.Events, project, afterEvent.ToString(CultureInfo.InvariantCulture)).ToString());
        }
    }
}
