using System.Globalization;
using Npgsql;
using RunLedger.Core.Payloads;
using RunLedger.Postgres.Testing;

namespace RunLedger.Benchmarks;

/// <summary>
/// Durable runs per second on PostgreSQL: a raw binary COPY of the flat rows (the engine's limit)
/// against RunLedger's PostgreSQL store in-process and over HTTP, on the same runs and the same
/// server, each contender in a fresh database. The server is a throwaway one started from the
/// installed binaries with fsync on, or the one named by <c>--postgres</c> / RUNLEDGER_TEST_POSTGRES.
/// </summary>
internal sealed class PostgresIngestScenario : IScenario
{
    private const int Submitters = 4;
    private const int RawTries = 3;
    private static readonly int[] BatchSizes = [100, 1000];

    public string Name => "ingest-postgres";

    public string Description => "durable runs/s on PostgreSQL: raw binary COPY vs RunLedger (in-process, HTTP)";

    public async Task<ScenarioReport> RunAsync(BenchmarkArguments arguments, CancellationToken cancellationToken)
    {
        var runCount = arguments.RunCount(5_000, 20_000);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ingest-postgres: generating {runCount} runs..."));
        var data = WorkloadData.Generate(runCount);
        var flat = data.Runs.Select(FlatRun.From).ToList();
        await using var server = await PostgresServer.StartAsync(arguments.Postgres, durable: true, cancellationToken).ConfigureAwait(false);
        var settings = await ServerSettingsAsync(server, cancellationToken).ConfigureAwait(false);
        Console.WriteLine("  server: " + settings);
        await WarmUpAsync(server, data, flat, cancellationToken).ConfigureAwait(false);
        var results = new List<IngestResult>();

        foreach (var batch in BatchSizes)
        {
            // The baseline takes well under a second, so one stall of a shared machine would move it a lot: median of three.
            var tries = new List<IngestResult>();
            for (var i = 0; i < RawTries; i++)
            {
                var database = await server.CreateDatabaseAsync(cancellationToken).ConfigureAwait(false);
                tries.Add(await RawPostgresCopy.RunAsync(flat, batch, server.ConnectionString(database), server.ProcessId, cancellationToken).ConfigureAwait(false));
            }

            results.Add(Report(tries.OrderBy(r => r.Elapsed).ElementAt(RawTries / 2)));
        }

        foreach (var batch in BatchSizes)
        {
            var database = await server.CreateDatabaseAsync(cancellationToken).ConfigureAwait(false);
            results.Add(Report(await InProcessAsync(data, batch, server.ConnectionString(database), server.ProcessId, cancellationToken).ConfigureAwait(false)));
        }

        foreach (var batch in BatchSizes)
        {
            var database = await server.CreateDatabaseAsync(cancellationToken).ConfigureAwait(false);
            results.Add(Report(await HttpAsync(data, batch, server.ConnectionString(database), server.ProcessId, cancellationToken).ConfigureAwait(false)));
        }

        return BuildReport(arguments, runCount, settings, server.IsExternal, results);
    }

    /// <summary>Runs the first few hundred runs through each code path once, so the first timed contender does not pay for JIT and pool start-up.</summary>
    private static async Task WarmUpAsync(PostgresServer server, WorkloadData data, List<FlatRun> flat, CancellationToken cancellationToken)
    {
        var count = Math.Min(500, flat.Count);
        await RawPostgresCopy.RunAsync([.. flat.Take(count)], 100, server.ConnectionString(await server.CreateDatabaseAsync(cancellationToken).ConfigureAwait(false)), null, cancellationToken).ConfigureAwait(false);
        await using var ledger = await InProcessLedger.OpenPostgresAsync(
            server.ConnectionString(await server.CreateDatabaseAsync(cancellationToken).ConfigureAwait(false)), new PayloadOptions(), cancellationToken).ConfigureAwait(false);
        foreach (var sessions in data.SessionBatches())
        {
            await ledger.SubmitAsync(sessions, cancellationToken).ConfigureAwait(false);
        }

        foreach (var request in data.RunBatches(100, count))
        {
            await ledger.SubmitAsync(request, cancellationToken).ConfigureAwait(false);
        }
    }

    private static IngestResult Report(IngestResult result)
    {
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"  {result.Contender,-44} batch {result.BatchSize,5}: {result.RunsPerSecond,10:N0} runs/s ({result.Runs} runs in {result.Elapsed.TotalSeconds:0.00} s, client CPU {result.CpuMicrosPerRun:N0} µs/run, server CPU {result.ServerCpuMicrosPerRun:N0} µs/run)"));
        return result;
    }

    private static async Task<IngestResult> InProcessAsync(WorkloadData data, int batchSize, string connectionString, int? serverProcessId, CancellationToken cancellationToken)
    {
        await using var ledger = await InProcessLedger.OpenPostgresAsync(connectionString, new PayloadOptions(), cancellationToken).ConfigureAwait(false);
        foreach (var sessions in data.SessionBatches())
        {
            await ledger.SubmitAsync(sessions, cancellationToken).ConfigureAwait(false);
        }

        var batches = data.RunBatches(batchSize);
        var cpu = CpuClock.StartNew();
        var serverCpu = ServerCpuClock.Start(serverProcessId);
        var (elapsed, written) = await Benchmarks.Submitters.RunAsync(batches, Submitters, (_, request) => ledger.SubmitAsync(request, cancellationToken)).ConfigureAwait(false);
        var used = cpu.Cpu;
        var serverUsed = serverCpu?.Elapsed;
        Check(written, data.Runs.Count);
        return new IngestResult("RunLedger PostgreSQL in-process (pipeline)", batchSize, data.Runs.Count, elapsed, Extrapolated: false, used) { ServerCpu = serverUsed };
    }

    private static async Task<IngestResult> HttpAsync(WorkloadData data, int batchSize, string connectionString, int? serverProcessId, CancellationToken cancellationToken)
    {
        using var dir = new TempDirectory("http-pg");
        await using var ledger = await HttpLedger.StartAsync(dir.Path, Submitters, cancellationToken, store: connectionString).ConfigureAwait(false);
        foreach (var sessions in data.SessionBatches())
        {
            await ledger.PostAsync(0, HttpLedger.Serialize(sessions), sessions.Sessions!.Count, cancellationToken).ConfigureAwait(false);
        }

        var bodies = data.RunBatches(batchSize).Select(r => (Body: HttpLedger.Serialize(r), Count: r.Runs!.Count)).ToList();
        var cpu = CpuClock.StartNew();
        var serverCpu = ServerCpuClock.Start(serverProcessId);
        var (elapsed, written) = await Benchmarks.Submitters.RunAsync(bodies, Submitters, (client, item) => ledger.PostAsync(client, item.Body, item.Count, cancellationToken)).ConfigureAwait(false);
        var used = cpu.Cpu;
        var serverUsed = serverCpu?.Elapsed;
        Check(written, data.Runs.Count);
        return new IngestResult("RunLedger PostgreSQL HTTP (POST /v1/ingest)", batchSize, data.Runs.Count, elapsed, Extrapolated: false, used) { ServerCpu = serverUsed };
    }

    private static async Task<string> ServerSettingsAsync(PostgresServer server, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString());
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            "SELECT current_setting('server_version'), current_setting('fsync'), current_setting('synchronous_commit'), current_setting('full_page_writes')",
            connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return string.Create(
            CultureInfo.InvariantCulture,
            $"PostgreSQL {reader.GetString(0)}, fsync={reader.GetString(1)}, synchronous_commit={reader.GetString(2)}, full_page_writes={reader.GetString(3)}");
    }

    private static void Check(long written, int expected)
    {
        if (written != expected)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"Expected {expected} runs written, got {written}."));
        }
    }

    private static ScenarioReport BuildReport(BenchmarkArguments arguments, int runCount, string settings, bool external, List<IngestResult> results)
    {
        var report = new ScenarioReport
        {
            Scenario = "ingest-postgres",
            Title = "Ingest on PostgreSQL: durable runs per second",
            Command = "dotnet run -c Release --project benchmarks/RunLedger.Benchmarks -- ingest-postgres" + IngestScenario.Flags(arguments),
            Columns = ["contender", "batch", "runs", "seconds", "runs/s", "client CPU µs/run", "server CPU µs/run", "vs raw COPY (same batch)"],
        };

        double Raw(int batch) => results.First(r => r.Contender.StartsWith("raw", StringComparison.Ordinal) && r.BatchSize == batch).RunsPerSecond;
        foreach (var r in results)
        {
            report.Rows.Add(
            [
                r.Contender,
                Fmt.Int(r.BatchSize),
                Fmt.Int(r.Runs),
                Fmt.Seconds(r.Elapsed),
                Fmt.Rate(r.RunsPerSecond),
                Fmt.Number(r.CpuMicrosPerRun, "N0"),
                r.ServerCpuMicrosPerRun is { } serverCpu ? Fmt.Number(serverCpu, "N0") : "-",
                Fmt.Percent(r.RunsPerSecond / Raw(r.BatchSize)),
            ]);
            var key = r.Contender.StartsWith("raw", StringComparison.Ordinal) ? "raw_copy"
                : r.Contender.Contains("HTTP", StringComparison.Ordinal) ? "runledger_http" : "runledger_in_process";
            report.Metrics[string.Create(CultureInfo.InvariantCulture, $"{key}_b{r.BatchSize}_runs_per_s")] = Math.Round(r.RunsPerSecond, 1);
            report.Metrics[string.Create(CultureInfo.InvariantCulture, $"{key}_b{r.BatchSize}_client_cpu_us_per_run")] = Math.Round(r.CpuMicrosPerRun, 1);

            if (r.ServerCpuMicrosPerRun is { } serverMicros)
            {
                report.Metrics[string.Create(CultureInfo.InvariantCulture, $"{key}_b{r.BatchSize}_server_cpu_us_per_run")] = Math.Round(serverMicros, 1);
            }
        }

        double At(string prefix, int batch) => results.First(r => r.Contender.StartsWith(prefix, StringComparison.Ordinal) && r.BatchSize == batch).RunsPerSecond;
        foreach (var batch in BatchSizes)
        {
            var b = Fmt.Int(batch);
            report.Summary.Add(new SummaryLine($"in-process / raw COPY, batch {b}", Fmt.Percent(At("RunLedger PostgreSQL in-process", batch) / Raw(batch)), null, "-"));
            report.Summary.Add(new SummaryLine($"HTTP / raw COPY, batch {b}", Fmt.Percent(At("RunLedger PostgreSQL HTTP", batch) / Raw(batch)), null, "-"));
        }

        report.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"{Fmt.Int(runCount)} runs from the seeded workload generator (seed 42); every contender gets the same runs. Sessions are written before timing starts; a warm-up of 500 runs through raw COPY and the store (in their own databases) runs first."));
        report.Notes.Add((external ? "An existing server (--postgres or RUNLEDGER_TEST_POSTGRES): " : "A throwaway server started from the installed binaries on 127.0.0.1 (TCP): ") + settings
            + ". Every contender commits durably (synchronous_commit on) into a fresh database on the same server.");
        report.Notes.Add("Raw COPY stores a simplified runs table (bodies as text, no indexes, no compression, no full-text vector) with one binary COPY and one transaction per batch on one connection: the engine's limit for this row shape. It runs three times (a fresh database each); the table shows the median.");
        report.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"RunLedger in-process and HTTP use {Submitters} concurrent submitters in front of one writer (group commit); the store keeps its indexes, partitions, payload table, rollups, sessions, events and full-text vector in the same transaction. HTTP request bodies are serialized before timing."));
        report.Notes.Add("Client CPU is this process's CPU time during the timed section: RunLedger's work (validation, merge, hashing, compression, search vector, Npgsql) or the raw driver's, with the runtime's own share (GC, thread pool). Server CPU is the PostgreSQL server's processes (postmaster, backends, background writer, WAL writer, checkpointer) from /proc, for a throwaway server only. Client and server share the machine's cores.");
        return report;
    }
}
