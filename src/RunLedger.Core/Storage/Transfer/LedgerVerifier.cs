using System.Globalization;
using System.Runtime.CompilerServices;

namespace RunLedger.Core.Storage.Transfer;

/// <summary>
/// Compares two ledgers side by side in the canonical order with constant memory: counts per
/// kind and a content checksum per record. A differing event names the run it belongs to.
/// Projects and keys that only the target has (a server's own bootstrap key) are not differences.
/// </summary>
public static class LedgerVerifier
{
    private static readonly string[] Kinds = ["projects", "keys", "sessions", "runs", "rollups", "events"];

    public static async Task<VerifyReport> VerifyAsync(ITransferSource source, ITransferSource target, int maxListed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        var state = new State(maxListed);
        var sourceKeys = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var targetKeys = new Dictionary<string, byte[]>(StringComparer.Ordinal);

        await using var left = Flatten(source, cancellationToken).GetAsyncEnumerator(cancellationToken);
        await using var right = Flatten(target, cancellationToken).GetAsyncEnumerator(cancellationToken);
        var hasLeft = await left.MoveNextAsync().ConfigureAwait(false);
        var hasRight = await right.MoveNextAsync().ConfigureAwait(false);
        while (hasLeft || hasRight)
        {
            var order = !hasLeft ? 1 : !hasRight ? -1 : TransferOrder.Compare(left.Current, right.Current);
            if (order <= 0 && left.Current is ApiKeyRecord sourceKey)
            {
                state.Count(sourceKey, 0);
                sourceKeys[Convert.ToHexStringLower(sourceKey.SecretHash)] = TransferDigest.Of(sourceKey with { Id = 0 });
                hasLeft = await left.MoveNextAsync().ConfigureAwait(false);
                continue;
            }

            if (order >= 0 && right.Current is ApiKeyRecord targetKey)
            {
                state.Count(targetKey, 1);
                targetKeys[Convert.ToHexStringLower(targetKey.SecretHash)] = TransferDigest.Of(targetKey with { Id = 0 });
                hasRight = await right.MoveNextAsync().ConfigureAwait(false);
                continue;
            }

            if (order < 0)
            {
                state.Count(left.Current, 0);
                state.Differ(left.Current, "missing in the target");
                hasLeft = await left.MoveNextAsync().ConfigureAwait(false);
            }
            else if (order > 0)
            {
                state.Count(right.Current, 1);
                if (right.Current is not ProjectRecord)
                {
                    state.Differ(right.Current, "only in the target");
                }

                hasRight = await right.MoveNextAsync().ConfigureAwait(false);
            }
            else
            {
                state.Count(left.Current, 0);
                state.Count(right.Current, 1);
                var same = TransferDigest.Of(left.Current).AsSpan().SequenceEqual(TransferDigest.Of(right.Current));
                if (!same)
                {
                    state.Differ(left.Current, "content differs");
                }
                else if (left.Current is RunRecord)
                {
                    state.RunsIdentical++;
                }

                hasLeft = await left.MoveNextAsync().ConfigureAwait(false);
                hasRight = await right.MoveNextAsync().ConfigureAwait(false);
            }
        }

        // Keys are few and their ids may be renumbered in the target: match them by secret hash.
        foreach (var (hash, digest) in sourceKeys)
        {
            if (!targetKeys.TryGetValue(hash, out var other))
            {
                state.Differ("key", hash[..12], "missing in the target", null);
            }
            else if (!digest.AsSpan().SequenceEqual(other))
            {
                state.Differ("key", hash[..12], "content differs", null);
            }
        }

        return new VerifyReport
        {
            Counts = [.. Kinds.Select((kind, i) => new KindCount(kind, state.Counts[i, 0], state.Counts[i, 1]))],
            RunsIdentical = state.RunsIdentical,
            DifferenceCount = state.DifferenceCount,
            Differences = state.Differences,
            DifferingRuns = state.DifferingRuns,
        };
    }

    private static async IAsyncEnumerable<TransferRecord> Flatten(ITransferSource source, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var page in source.ReadAsync(null, cancellationToken).ConfigureAwait(false))
        {
            foreach (var record in page.Records)
            {
                if (record is RollupRangeRecord)
                {
                    continue;
                }

                yield return record;
            }
        }
    }

    private sealed class State(int maxListed)
    {
        public long[,] Counts { get; } = new long[Kinds.Length, 2];

        public long RunsIdentical { get; set; }

        public long DifferenceCount { get; private set; }

        public List<TransferDifference> Differences { get; } = [];

        public List<Guid> DifferingRuns { get; } = [];

        public void Count(TransferRecord record, int side) => Counts[KindIndex(record), side]++;

        public void Differ(TransferRecord record, string problem)
        {
            var (kind, key, run) = Describe(record);
            Differ(kind, key, problem, run);
        }

        public void Differ(string kind, string key, string problem, Guid? run)
        {
            DifferenceCount++;
            if (Differences.Count < maxListed)
            {
                Differences.Add(new TransferDifference(kind, key, problem, run));
            }

            if (run is { } id && DifferingRuns.Count < maxListed && !DifferingRuns.Contains(id))
            {
                DifferingRuns.Add(id);
            }
        }

        private static int KindIndex(TransferRecord record) => record switch
        {
            ProjectRecord => 0,
            ApiKeyRecord => 1,
            SessionRecord => 2,
            RunRecord => 3,
            RollupRecord => 4,
            _ => 5,
        };

        private static (string Kind, string Key, Guid? Run) Describe(TransferRecord record) => record switch
        {
            ProjectRecord p => ("project", p.Name, null),
            SessionRecord s => ("session", s.Project + "/" + s.Id, null),
            RunRecord r => ("run", r.Project + "/" + r.Id, r.Id),
            RollupRecord r => ("rollup", string.Create(CultureInfo.InvariantCulture, $"{r.Project}/{r.BucketSize}s@{r.BucketStart}/{r.Kind}/{r.Name}/{r.Model}/{r.Status}"), null),
            EventRecord e => ("event", string.Create(CultureInfo.InvariantCulture, $"{e.Project}/#{e.Id} {e.Type}"), e.RunId),
            ApiKeyRecord k => ("key", k.Prefix, null),
            _ => ("record", record.GetType().Name, null),
        };
    }
}
