using System.CommandLine;
using RunLedger.Cli.Rendering;
using RunLedger.Core.Import;
using RunLedger.Core.Ingest;
using RunLedger.Core.Storage;
using RunLedger.Core.Storage.Transfer;
using RunLedger.Server.Hosting;
using Spectre.Console;

namespace RunLedger.Cli.Transfer;

/// <summary>
/// <c>runledger migrate --from SOURCE --to STORE [--verify]</c>: copies a whole ledger between
/// stores verbatim, a logical backup into a store, or a directory of JSON run documents into a store.
/// </summary>
internal static class MigrateCommand
{
    private const int MaxListed = 10;

    public static Command Create(CliHost host)
    {
        var from = new Option<string>("--from")
        {
            Description = "What to copy: a store (SQLite file, PostgreSQL URL or connection string), a logical backup (.jsonl.gz) or a directory of JSON run files",
            HelpName = "SOURCE",
            Required = true,
        };
        var to = new Option<string>("--to")
        {
            Description = "The store to copy into (empty, or holding an earlier copy of the same source)",
            HelpName = "STORE",
            Required = true,
        };
        var verify = new Option<bool>("--verify") { Description = "Afterwards compare counts and per-run checksums of source and target; exit 1 when they differ" };
        var map = new Option<string[]>("--map")
        {
            Description = "For a directory of JSON files: take a run field from elsewhere in each document, e.g. --map model=llm.model_name (repeatable)",
            HelpName = "FIELD=PATH",
            AllowMultipleArgumentsPerToken = false,
        };
        var project = new Option<string>("--project")
        {
            Description = "For a directory of JSON files: the project to import into",
            DefaultValueFactory = _ => "default",
            HelpName = "NAME",
        };
        var command = new Command("migrate", "Copy a ledger into another store (resumable, idempotent), or import a directory of JSON run files")
        {
            from, to, verify, map, project,
        };

        LocalCommandRunner.SetAction(command, host, async (parseResult, cancellationToken) =>
        {
            var mappings = parseResult.GetValue(map) ?? [];
            var fromText = parseResult.GetValue(from)!;
            var target = LocalStores.Parse(host, parseResult.GetValue(to)!, "--to");
            var fromPath = Path.GetFullPath(fromText, host.CurrentDirectory);
            if (Directory.Exists(fromPath))
            {
                RunFieldMap fieldMap;
                try
                {
                    fieldMap = RunFieldMap.Parse(mappings);
                }
                catch (FormatException e)
                {
                    throw new CliUsageException(e.Message);
                }

                return await ImportDirectoryAsync(host, new JsonRunDirectory(fromPath, fieldMap), target, parseResult.GetValue(project)!, parseResult.GetValue(verify), cancellationToken).ConfigureAwait(false);
            }

            if (mappings.Length > 0)
            {
                throw new CliUsageException("--map applies only when --from is a directory of JSON run files.");
            }

            if (File.Exists(fromPath) && TransferFile.IsGzipFile(fromPath))
            {
                var file = new TransferFileSource(fromPath);
                return await CopyAsync(host, file, fromPath, () => new TransferFileSource(fromPath), target, parseResult.GetValue(verify), cancellationToken).ConfigureAwait(false);
            }

            var source = LocalStores.Parse(host, fromText, "--from");
            if (source == target)
            {
                throw new CliUsageException($"--from and --to name the same store ({source.Redacted()}).");
            }

            await using var sourceStore = await LocalStores.OpenAsync(source, mustExist: true, host.Time, cancellationToken).ConfigureAwait(false);
            var transfer = LocalStores.TransferOf(sourceStore, source);
            return await CopyAsync(host, new StoreTransferSource(transfer), source.Redacted(), () => new StoreTransferSource(transfer), target, parseResult.GetValue(verify), cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> CopyAsync(
        CliHost host, ITransferSource source, string sourceName, Func<ITransferSource> reopen, StoreLocation target, bool verify, CancellationToken cancellationToken)
    {
        await using var targetStore = await LocalStores.OpenAsync(target, mustExist: false, host.Time, cancellationToken).ConfigureAwait(false);
        var transfer = LocalStores.TransferOf(targetStore, target);
        host.Console.MarkupLine($"Copying {Markup.Escape(sourceName)} -> {Markup.Escape(target.Redacted())}");
        // A file written before the hourly rollup tier: its hourly rows are added up from the
        // 5-minute rows before the copy counts as complete.
        var withoutHourly = source is TransferFileSource { Header.Version: <= TransferFile.VersionWithoutHourlyRollups };
        Func<CancellationToken, Task>? addHourly = withoutHourly ? ct => transfer.RebuildHourlyRollupsAsync(ct) : null;
        var report = await TransferProgressView.RunAsync(host, "copied", progress => LedgerCopier.CopyAsync(source, transfer, progress, cancellationToken, addHourly)).ConfigureAwait(false);

        host.Console.MarkupLine(
            $"{(report.Resumed ? "Resumed an interrupted copy and finished it" : "Copied")}: {Format.Count(report.Written)} records written, " +
            $"{Format.Count(report.Skipped)} already there, in {Format.Span(report.Elapsed)}.");
        if (!verify)
        {
            return ExitCodes.Ok;
        }

        ITransferSource copied = new StoreTransferSource(transfer);
        var result = await LedgerVerifier.VerifyAsync(reopen(), withoutHourly ? new WithoutHourlyRollups(copied) : copied, MaxListed, cancellationToken).ConfigureAwait(false);
        VerifyRenderer.Write(host.Console, result, result.Counts.Single(c => c.Kind == "runs").Source);
        return result.Identical ? ExitCodes.Ok : ExitCodes.ServerError;
    }

    private static async Task<int> ImportDirectoryAsync(CliHost host, JsonRunDirectory directory, StoreLocation target, string project, bool verify, CancellationToken cancellationToken)
    {
        await using var targetStore = await LocalStores.OpenAsync(target, mustExist: false, host.Time, cancellationToken).ConfigureAwait(false);
        var importer = new JsonRunImporter(targetStore, LocalStores.TransferOf(targetStore, target), new IngestOptions(), host.Time);
        host.Console.MarkupLine($"Importing {Format.Count(directory.Files.Count)} JSON files from {Markup.Escape(directory.FullPath)} -> {Markup.Escape(target.Redacted())} (project {Markup.Escape(project)})");
        var report = await TransferProgressView.RunAsync(host, "read", progress => importer.ImportAsync(directory, project, 200, progress, cancellationToken)).ConfigureAwait(false);
        host.Console.MarkupLine(
            $"{(report.Resumed ? "Resumed an interrupted import and finished it" : "Imported")}: {Format.Count(report.Written)} runs written, " +
            $"{Format.Count(report.Skipped)} already there, {Format.Count(report.RejectedCount)} rejected, in {Format.Span(report.Elapsed)}.");
        foreach (var rejected in report.Rejected)
        {
            await host.Error.WriteLineAsync("rejected " + rejected).ConfigureAwait(false);
        }

        var exit = report.RejectedCount == 0 ? ExitCodes.Ok : ExitCodes.ServerError;
        if (verify)
        {
            var result = await importer.VerifyAsync(directory, project, MaxListed, cancellationToken).ConfigureAwait(false);
            VerifyRenderer.Write(host.Console, result, result.Counts[0].Source);
            exit = result.Identical ? exit : ExitCodes.ServerError;
        }

        return exit;
    }
}
