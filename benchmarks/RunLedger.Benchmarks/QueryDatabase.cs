using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using RunLedger.Core;
using RunLedger.Core.Payloads;
using RunLedger.Core.Storage;
using RunLedger.Sqlite;

namespace RunLedger.Benchmarks;

/// <summary>
/// A RunLedger SQLite database holding a <see cref="NightlyWorkload"/>, loaded through the real
/// ingest pipeline once and kept in <c>benchmarks/.cache</c> (git-ignored) under a key made of the
/// seed, the nights, the run count and a hash of the store's migrations, so later runs reuse it.
/// </summary>
internal static class QueryDatabase
{
    private const int LoadBatch = 1000;
    private const int LoadSubmitters = 4;

    /// <summary>The directory holding the loaded database, and how long loading took (null: reused from the cache).</summary>
    public static async Task<(string Directory, TimeSpan? LoadTime)> EnsureAsync(NightlyWorkload workload, CancellationToken cancellationToken)
    {
        var key = string.Create(CultureInfo.InvariantCulture, $"query-seed{workload.Seed}-nights{workload.Nights}-runs{workload.Runs}-schema{MigrationsHash()}");
        var directory = Path.Combine(CacheDirectory(), key);
        if (File.Exists(Path.Combine(directory, "complete")))
        {
            Console.WriteLine("  reusing the loaded database in benchmarks/.cache/" + key);
            return (directory, null);
        }

        var loading = directory + ".loading";
        if (Directory.Exists(loading))
        {
            Directory.Delete(loading, recursive: true);
        }

        Directory.CreateDirectory(loading);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  loading {workload.Runs:N0} runs over {workload.Nights} nights into benchmarks/.cache/{key} (once; later runs reuse it)..."));
        var clock = Stopwatch.StartNew();
        var ledger = await InProcessLedger.OpenAsync(loading, new PayloadOptions(), cancellationToken).ConfigureAwait(false);
        await using (ledger.ConfigureAwait(false))
        {
            var inFlight = new List<Task<int>>(LoadSubmitters);
            long runs = 0;
            var report = Stopwatch.StartNew();
            foreach (var request in workload.Requests(LoadBatch))
            {
                if (request.Sessions is { Count: > 0 })
                {
                    // Sessions go in before the runs that count towards them.
                    await Task.WhenAll(inFlight).ConfigureAwait(false);
                    inFlight.Clear();
                    await ledger.SubmitAsync(request, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                if (inFlight.Count == LoadSubmitters)
                {
                    var done = await Task.WhenAny(inFlight).ConfigureAwait(false);
                    await done.ConfigureAwait(false);
                    inFlight.Remove(done);
                }

                runs += request.Runs?.Count ?? 0;
                inFlight.Add(ledger.SubmitAsync(request, cancellationToken));
                if (report.Elapsed > TimeSpan.FromSeconds(30))
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {runs:N0} runs after {clock.Elapsed.TotalSeconds:0} s"));
                    report.Restart();
                }
            }

            await Task.WhenAll(inFlight).ConfigureAwait(false);
            await ledger.CloseAndMeasureAsync().ConfigureAwait(false);
        }

        clock.Stop();
        await File.WriteAllTextAsync(Path.Combine(loading, "complete"), clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + "\n", cancellationToken).ConfigureAwait(false);
        Directory.Move(loading, directory);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  loaded in {clock.Elapsed.TotalSeconds:0.0} s"));
        return (directory, clock.Elapsed);
    }

    /// <summary>One JSON file per run (the wire JSON) for the first <paramref name="runs"/> runs of the workload, cached like the database.</summary>
    public static string EnsureJsonFiles(NightlyWorkload workload, int runs)
    {
        var key = string.Create(CultureInfo.InvariantCulture, $"json-seed{workload.Seed}-nights{workload.Nights}-runs{workload.Runs}-first{runs}");
        var directory = Path.Combine(CacheDirectory(), key);
        if (File.Exists(Path.Combine(directory, "complete")))
        {
            Console.WriteLine("  reusing the JSON files in benchmarks/.cache/" + key);
            return directory;
        }

        var loading = directory + ".loading";
        if (Directory.Exists(loading))
        {
            Directory.Delete(loading, recursive: true);
        }

        Directory.CreateDirectory(loading);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  writing {runs:N0} JSON files into benchmarks/.cache/{key} (once)..."));
        var written = 0;
        foreach (var run in workload.Requests(LoadBatch).SelectMany(r => r.Runs ?? []).Take(runs))
        {
            File.WriteAllBytes(Path.Combine(loading, run.Id + ".json"), JsonSerializer.SerializeToUtf8Bytes(run, LedgerJson.Options));
            written++;
        }

        File.WriteAllText(Path.Combine(loading, "complete"), written.ToString(CultureInfo.InvariantCulture) + "\n");
        Directory.Move(loading, directory);
        return directory;
    }

    /// <summary><c>benchmarks/.cache</c> beside <c>benchmarks/results</c>.</summary>
    public static string CacheDirectory() => Path.Combine(Path.GetDirectoryName(ResultWriter.ResultsDirectory())!, ".cache");

    /// <summary>The first 12 hex digits of SHA-256 over the SQLite store's migrations, in version order.</summary>
    public static string MigrationsHash()
    {
        var assembly = typeof(SqliteLedgerStore).Assembly;
        var text = new StringBuilder();
        foreach (var (version, resource) in EmbeddedMigrations.Discover(assembly, "RunLedger.Sqlite.Migrations."))
        {
            text.Append(version).Append('\n').Append(EmbeddedMigrations.Read(assembly, resource)).Append('\n');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..12];
    }
}
