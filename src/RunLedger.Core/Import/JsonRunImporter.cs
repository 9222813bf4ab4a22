using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Payloads;
using RunLedger.Core.Storage;
using RunLedger.Core.Storage.Transfer;

namespace RunLedger.Core.Import;

/// <summary>
/// Imports a directory of run documents into a store through the store's own writer (so runs
/// get their events, session totals and rollups like any ingested run, with source
/// <c>import</c>). Runs the target already holds are skipped; after every batch the last file
/// written is kept as a checkpoint in the target, so an interrupted import resumes after it.
/// </summary>
public sealed class JsonRunImporter
{
    private const int MaxListed = 10;

    private readonly ILedgerStore _store;
    private readonly ILedgerTransfer _checkpoints;
    private readonly IngestValidator _validator;
    private readonly TimeProvider _time;

    public JsonRunImporter(ILedgerStore store, ILedgerTransfer checkpoints, IngestOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(checkpoints);
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _checkpoints = checkpoints;
        _validator = new IngestValidator(options);
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The checkpoint key of a directory: its full path.</summary>
    public static string SourceId(JsonRunDirectory directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        return "dir:" + directory.FullPath;
    }

    public async Task<JsonImportReport> ImportAsync(JsonRunDirectory directory, string project, int batchSize, IProgress<CopyProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var clock = Stopwatch.StartNew();
        var projectId = (await _store.Admin.GetOrCreateProjectAsync(project, cancellationToken).ConfigureAwait(false)).Id;
        var sourceId = SourceId(directory);
        var checkpoint = await _checkpoints.ReadCheckpointAsync(sourceId, cancellationToken).ConfigureAwait(false);
        var resumeAfter = checkpoint is { Completed: false } ? checkpoint.Position : null;
        var files = directory.Files;
        var start = resumeAfter is null ? 0 : files.Count(f => string.CompareOrdinal(f, resumeAfter) <= 0);
        long written = 0, skipped = 0, rejectedCount = 0;
        var rejected = new List<string>();
        var last = checkpoint?.Position ?? string.Empty;

        for (var offset = start; offset < files.Count; offset += batchSize)
        {
            var chunk = files.Skip(offset).Take(batchSize).ToList();
            var runs = new List<RunPayload>();
            var names = new List<string>();
            foreach (var file in chunk)
            {
                try
                {
                    var run = await directory.ReadAsync(file, cancellationToken).ConfigureAwait(false);
                    if (Guid.TryParse(run.Id, CultureInfo.InvariantCulture, out var id)
                        && await _store.Reader.GetRunAsync(projectId, id, cancellationToken).ConfigureAwait(false) is not null)
                    {
                        skipped++;
                        continue;
                    }

                    runs.Add(run);
                    names.Add(file);
                }
                catch (RunDocumentException e)
                {
                    Reject(e.Message);
                }
            }

            if (runs.Count > 0)
            {
                ValidatedRequest validated;
                try
                {
                    validated = _validator.Validate(new IngestRequest { Runs = runs }, projectId, "import", _time.GetUtcNow());
                }
                catch (IngestRequestException e)
                {
                    throw new RunDocumentException($"{names[0]} .. {names[^1]}", e.Message);
                }

                foreach (var item in validated.Rejected)
                {
                    Reject($"{names[item.Index]}: {item.Error}");
                }

                var results = await _store.Writer.WriteAsync([validated.Batch], cancellationToken).ConfigureAwait(false);
                if (results[0].Error is { } error)
                {
                    throw new InvalidOperationException($"The store refused the batch {names[0]} .. {names[^1]}: {error.Message}", error);
                }

                foreach (var item in results[0].Outcome!.Rejected)
                {
                    Reject($"{names[item.Index]}: {item.Error}");
                }

                written += validated.Batch.Runs.Count - results[0].Outcome!.Rejected.Count;
            }

            last = chunk[^1];
            await _checkpoints.ImportAsync([], new TransferCheckpoint(sourceId, last, false), cancellationToken).ConfigureAwait(false);
            progress?.Report(new CopyProgress(offset + chunk.Count, files.Count, written, skipped));
        }

        await _checkpoints.ImportAsync([], new TransferCheckpoint(sourceId, last, true), cancellationToken).ConfigureAwait(false);
        return new JsonImportReport(resumeAfter is not null, files.Count, written, skipped, rejected, rejectedCount, clock.Elapsed);

        void Reject(string message)
        {
            rejectedCount++;
            if (rejected.Count < MaxListed)
            {
                rejected.Add(message);
            }
        }
    }

    /// <summary>
    /// Reads every document again and compares it with the stored run: bodies (text, or the
    /// original's SHA-256 when the store truncated it), usage, cost, metadata, tree, model, name and status.
    /// </summary>
    public async Task<VerifyReport> VerifyAsync(JsonRunDirectory directory, string project, int maxListed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var projectId = (await _store.Admin.FindProjectAsync(project, cancellationToken).ConfigureAwait(false))?.Id;
        long identical = 0, found = 0, differences = 0;
        var listed = new List<TransferDifference>();
        var runs = new List<Guid>();
        foreach (var file in directory.Files)
        {
            RunWrite expected;
            try
            {
                var payload = await directory.ReadAsync(file, cancellationToken).ConfigureAwait(false);
                var validated = _validator.Validate(new IngestRequest { Runs = [payload] }, projectId ?? 0, "import", _time.GetUtcNow());
                if (validated.Batch.Runs.Count == 0)
                {
                    continue;
                }

                expected = validated.Batch.Runs[0];
            }
            catch (RunDocumentException)
            {
                continue;
            }

            var stored = projectId is { } id ? await _store.Reader.GetRunAsync(id, expected.Id, cancellationToken).ConfigureAwait(false) : null;
            var problem = stored is null ? "missing in the target" : Compare(expected, stored.Run);
            found += stored is null ? 0 : 1;
            if (problem is null)
            {
                identical++;
                continue;
            }

            differences++;
            if (listed.Count < maxListed)
            {
                listed.Add(new TransferDifference("run", file + " " + expected.Id, problem, expected.Id));
                runs.Add(expected.Id);
            }
        }

        return new VerifyReport
        {
            Counts = [new KindCount("runs", identical + differences, found)],
            RunsIdentical = identical,
            DifferenceCount = differences,
            Differences = listed,
            DifferingRuns = runs,
        };
    }

    private static string? Compare(RunWrite expected, Run stored)
    {
        if (!SameBody(expected.Input, stored.Input, stored.InputInfo))
        {
            return "input differs";
        }

        if (!SameBody(expected.Output, stored.Output, stored.OutputInfo))
        {
            return "output differs";
        }

        if (expected.Usage is { } usage && (usage.InputTokens != stored.Usage.InputTokens || usage.OutputTokens != stored.Usage.OutputTokens
            || usage.CachedTokens != stored.Usage.CachedTokens || usage.ReasoningTokens != stored.Usage.ReasoningTokens))
        {
            return "usage differs";
        }

        if (expected.CostUsd is { } cost && cost != stored.CostUsd)
        {
            return "cost differs";
        }

        if (expected.Metadata is { } metadata && metadata.Text != stored.Metadata?.Text)
        {
            return "metadata differs";
        }

        if (expected.ParentId != stored.ParentId || (expected.SessionId is { } session && session != stored.SessionId))
        {
            return "tree (parent or session) differs";
        }

        if ((expected.Model is { } model && model != stored.Model) || (expected.Name is { } name && name != stored.Name)
            || (expected.Status is { } status && status.ToWire() != stored.Status))
        {
            return "model, name or status differs";
        }

        return null;
    }

    private static bool SameBody(RawJson? expected, RawJson? stored, PayloadInfo? info)
    {
        if (expected is null)
        {
            return true;
        }

        if (info is { Truncated: true })
        {
            return string.Equals(info.Sha256, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(expected.Text))), StringComparison.Ordinal);
        }

        return stored?.Text == expected.Text;
    }
}
