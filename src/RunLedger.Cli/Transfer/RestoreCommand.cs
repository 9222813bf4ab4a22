using System.CommandLine;
using RunLedger.Cli.Rendering;
using RunLedger.Core.Storage.Transfer;
using RunLedger.Server.Hosting;
using RunLedger.Sqlite;
using Spectre.Console;

namespace RunLedger.Cli.Transfer;

/// <summary>
/// <c>runledger restore FILE</c>: puts a backup (a SQLite database file or a logical export) into
/// the store. It refuses to overwrite a store that holds anything unless <c>--force</c>.
/// </summary>
internal static class RestoreCommand
{
    public static Command Create(CliHost host, Option<string?> store, Option<string?> data)
    {
        var file = new Argument<string>("file") { Description = "The backup: a SQLite database file or a .jsonl.gz logical export" };
        var force = new Option<bool>("--force") { Description = "Replace whatever the store holds (stop servers using it first)" };
        var command = new Command("restore", "Restore a backup into a store (refuses a store that holds data, unless --force)")
        {
            file, force, store, data,
        };

        LocalCommandRunner.SetAction(command, host, async (parseResult, cancellationToken) =>
        {
            var location = LocalStores.Resolve(host, parseResult.GetValue(store), parseResult.GetValue(data));
            var backup = Path.GetFullPath(parseResult.GetValue(file)!, host.CurrentDirectory);
            if (!File.Exists(backup))
            {
                throw new CliUsageException($"There is no backup file {backup}.");
            }

            var isDatabase = SqliteBackup.IsSqliteFile(backup);
            if (!isDatabase && !TransferFile.IsGzipFile(backup))
            {
                throw new CliUsageException($"{backup} is neither a SQLite database nor a gzip logical export made by `runledger backup`.");
            }

            var fileSource = isDatabase ? null : new TransferFileSource(backup);
            var clock = System.Diagnostics.Stopwatch.StartNew();

            // A SQLite file into a SQLite store: copy the pages with the backup API.
            if (isDatabase && location.Engine == StoreEngine.Sqlite)
            {
                var held = await SqliteBackup.CountAsync(location.Value, 1000, cancellationToken).ConfigureAwait(false);
                RefuseUnlessForced(location, held, parseResult.GetValue(force));
                await SqliteBackup.RestoreAsync(backup, location.Value, new SqliteStoreOptions().BusyTimeoutMs, cancellationToken).ConfigureAwait(false);
                await using var restored = await LocalStores.OpenAsync(location, mustExist: true, host.Time, cancellationToken).ConfigureAwait(false);
                var counts = await LocalStores.TransferOf(restored, location).CountAsync(cancellationToken).ConfigureAwait(false);
                Report(host, backup, location, counts, clock.Elapsed);
                return ExitCodes.Ok;
            }

            // Anything else goes record by record through the transfer.
            await using var target = await LocalStores.OpenAsync(location, mustExist: false, host.Time, cancellationToken).ConfigureAwait(false);
            var transfer = LocalStores.TransferOf(target, location);
            SqliteLedgerStore? sourceStore = null;
            try
            {
                ITransferSource source;
                if (fileSource is not null)
                {
                    source = fileSource;
                }
                else
                {
                    // A database file into another kind of store: read it as a store.
                    sourceStore = new SqliteLedgerStore(backup, new SqliteStoreOptions { IndexInBackground = false }, new RunLedger.Core.Payloads.PayloadOptions(), host.Time);
                    await sourceStore.InitializeAsync(cancellationToken).ConfigureAwait(false);
                    source = new StoreTransferSource(sourceStore.Transfer);
                }

                var checkpoint = await transfer.ReadCheckpointAsync(await source.GetIdAsync(cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
                var resuming = checkpoint is { Completed: false };
                if (!resuming)
                {
                    var held = await transfer.CountAsync(cancellationToken).ConfigureAwait(false);
                    RefuseUnlessForced(location, held, parseResult.GetValue(force));
                    await transfer.ClearAsync(cancellationToken).ConfigureAwait(false);
                }

                // A file written before the hourly rollup tier: its hourly rows are added up from
                // the 5-minute rows before the restore counts as complete.
                Func<CancellationToken, Task>? addHourly = fileSource is { Header.Version: <= TransferFile.VersionWithoutHourlyRollups }
                    ? ct => transfer.RebuildHourlyRollupsAsync(ct)
                    : null;
                await TransferProgressView.RunAsync(host, "restored", progress => LedgerCopier.CopyAsync(source, transfer, progress, cancellationToken, addHourly)).ConfigureAwait(false);
            }
            finally
            {
                if (sourceStore is not null)
                {
                    await sourceStore.DisposeAsync().ConfigureAwait(false);
                }
            }

            Report(host, backup, location, await transfer.CountAsync(cancellationToken).ConfigureAwait(false), clock.Elapsed);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void RefuseUnlessForced(StoreLocation location, TransferCounts? held, bool force)
    {
        if (held is null || held.Total == 0 || force)
        {
            return;
        }

        throw new CliUsageException(
            $"{location.Redacted()} already holds {Format.Count(held.Runs)} runs, {Format.Count(held.Sessions)} sessions, {Format.Count(held.Events)} events, " +
            $"{Format.Count(held.Projects)} projects and {Format.Count(held.ApiKeys)} API keys. A restore replaces all of it: stop any server using it and pass --force, " +
            "or restore into another store with --store.");
    }

    private static void Report(CliHost host, string backup, StoreLocation location, TransferCounts counts, TimeSpan elapsed) =>
        host.Console.MarkupLine(
            $"Restored {Markup.Escape(backup)} into {Markup.Escape(location.Redacted())}: {Format.Count(counts.Runs)} runs, {Format.Count(counts.Sessions)} sessions, " +
            $"{Format.Count(counts.Events)} events, {Format.Count(counts.ApiKeys)} API keys, in {Format.Span(elapsed)}.");
}
