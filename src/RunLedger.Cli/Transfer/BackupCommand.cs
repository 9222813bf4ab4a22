using System.CommandLine;
using RunLedger.Cli.Rendering;
using RunLedger.Core.Storage.Transfer;
using RunLedger.Server.Hosting;
using RunLedger.Sqlite;
using Spectre.Console;

namespace RunLedger.Cli.Transfer;

/// <summary>
/// <c>runledger backup FILE</c>: SQLite — an online copy of the live database file (SQLite's
/// backup API, safe while a server writes); PostgreSQL, or <c>--logical</c> — a portable
/// gzip JSON Lines export any store can restore.
/// </summary>
internal static class BackupCommand
{
    public static Command Create(CliHost host, Option<string?> store, Option<string?> data)
    {
        var file = new Argument<string>("file") { Description = "Where to write the backup (replaced if it exists)" };
        var logical = new Option<bool>("--logical") { Description = "Write the portable gzip JSON Lines export even for SQLite (restorable into any store)" };
        var command = new Command("backup", "Back up a store while it runs: a SQLite database file, or a portable logical export (.jsonl.gz)")
        {
            file, logical, store, data,
        };

        LocalCommandRunner.SetAction(command, host, async (parseResult, cancellationToken) =>
        {
            var location = LocalStores.Resolve(host, parseResult.GetValue(store), parseResult.GetValue(data));
            var destination = Path.GetFullPath(parseResult.GetValue(file)!, host.CurrentDirectory);
            if (Directory.Exists(destination))
            {
                throw new CliUsageException($"{destination} is a directory; name the backup file, e.g. {Path.Combine(destination, "runledger-backup.db")}.");
            }

            var directory = Path.GetDirectoryName(destination);
            if (!string.IsNullOrEmpty(directory) && !Directory.Exists(directory))
            {
                throw new CliUsageException($"The directory {directory} does not exist.");
            }

            var clock = System.Diagnostics.Stopwatch.StartNew();
            if (location.Engine == StoreEngine.Sqlite && !parseResult.GetValue(logical))
            {
                var bytes = await SqliteBackup.BackupAsync(location.Value, destination, new SqliteStoreOptions().BusyTimeoutMs, cancellationToken).ConfigureAwait(false);
                var counts = await SqliteBackup.CountAsync(destination, 1000, cancellationToken).ConfigureAwait(false);
                host.Console.MarkupLine(
                    $"Backed up {Markup.Escape(location.Redacted())} to {Markup.Escape(destination)}: SQLite database, {Bytes(bytes)}, " +
                    $"{Format.Count(counts?.Runs ?? 0)} runs, {Format.Count(counts?.Events ?? 0)} events, in {Format.Span(clock.Elapsed)}.");
                return ExitCodes.Ok;
            }

            if (location.Engine == StoreEngine.Sqlite && !File.Exists(location.Value))
            {
                throw new CliUsageException($"There is no SQLite database at {location.Value}.");
            }

            await using var opened = await LocalStores.OpenAsync(location, mustExist: true, host.Time, cancellationToken).ConfigureAwait(false);
            var transfer = LocalStores.TransferOf(opened, location);
            var temporary = destination + ".partial";
            long records;
            try
            {
                await using (var output = File.Create(temporary))
                {
                    records = await TransferProgressView.RunAsync(
                        host, "exported", progress => TransferFile.WriteAsync(new StoreTransferSource(transfer), output, host.Time, progress, cancellationToken)).ConfigureAwait(false);
                }

                File.Move(temporary, destination, overwrite: true);
            }
            finally
            {
                File.Delete(temporary);
            }

            host.Console.MarkupLine(
                $"Backed up {Markup.Escape(location.Redacted())} to {Markup.Escape(destination)}: logical export (gzip JSON Lines), {Bytes(new FileInfo(destination).Length)}, " +
                $"{Format.Count(records)} records, in {Format.Span(clock.Elapsed)}.");
            return ExitCodes.Ok;
        });
        return command;
    }

    internal static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("0.0 GiB", System.Globalization.CultureInfo.InvariantCulture),
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.0 MiB", System.Globalization.CultureInfo.InvariantCulture),
        >= 1L << 10 => (bytes / (double)(1L << 10)).ToString("0.0 KiB", System.Globalization.CultureInfo.InvariantCulture),
        _ => bytes.ToString(System.Globalization.CultureInfo.InvariantCulture) + " B",
    };
}
