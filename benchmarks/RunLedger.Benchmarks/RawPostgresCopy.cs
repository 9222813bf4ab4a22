using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;

namespace RunLedger.Benchmarks;

/// <summary>
/// The engine's limit on PostgreSQL: binary COPY of the flat row into a fresh table without
/// indexes (bodies as text), one transaction per batch, nothing else.
/// </summary>
internal static class RawPostgresCopy
{
    private const string Schema = """
        CREATE TABLE runs (
            id text, session_id text, parent_id text, kind text, name text, status text,
            started_at text, ended_at text, model text, provider text, parameters text, input text,
            output text, error text, input_tokens bigint, output_tokens bigint, cost_usd double precision,
            tags text, metadata text, user_id text);
        """;

    private const string Copy =
        "COPY runs (id, session_id, parent_id, kind, name, status, started_at, ended_at, model, provider, parameters, input, " +
        "output, error, input_tokens, output_tokens, cost_usd, tags, metadata, user_id) FROM STDIN (FORMAT BINARY)";

    public static async Task<IngestResult> RunAsync(IReadOnlyList<FlatRun> runs, int batchSize, string connectionString, int? serverProcessId, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (var create = new NpgsqlCommand(Schema, connection))
        {
            await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        var cpu = CpuClock.StartNew();
        var serverCpu = ServerCpuClock.Start(serverProcessId);
        var clock = Stopwatch.StartNew();
        for (var start = 0; start < runs.Count; start += batchSize)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (var importer = await connection.BeginBinaryImportAsync(Copy, cancellationToken).ConfigureAwait(false))
            {
                var end = Math.Min(runs.Count, start + batchSize);
                for (var i = start; i < end; i++)
                {
                    await WriteAsync(importer, runs[i], cancellationToken).ConfigureAwait(false);
                }

                await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        clock.Stop();
        return new IngestResult("raw PostgreSQL (binary COPY)", batchSize, runs.Count, clock.Elapsed, Extrapolated: false, cpu.Cpu) { ServerCpu = serverCpu?.Elapsed };
    }

    private static async Task WriteAsync(NpgsqlBinaryImporter importer, FlatRun run, CancellationToken cancellationToken)
    {
        await importer.StartRowAsync(cancellationToken).ConfigureAwait(false);
        await importer.WriteAsync(run.Id, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await Text(importer, run.SessionId, cancellationToken).ConfigureAwait(false);
        await Text(importer, run.ParentId, cancellationToken).ConfigureAwait(false);
        await Text(importer, run.Kind, cancellationToken).ConfigureAwait(false);
        await Text(importer, run.Name, cancellationToken).ConfigureAwait(false);
        await Text(importer, run.Status, cancellationToken).ConfigureAwait(false);
        await Text(importer, run.StartedAt, cancellationToken).ConfigureAwait(false);
        await Text(importer, run.EndedAt, cancellationToken).ConfigureAwait(false);
        await Text(importer, run.Model, cancellationToken).ConfigureAwait(false);
        await Text(importer, run.Provider, cancellationToken).ConfigureAwait(false);
        await Text(importer, run.Parameters, cancellationToken).ConfigureAwait(false);
        await Text(importer, run.Input, cancellationToken).ConfigureAwait(false);
        await Text(importer, run.Output, cancellationToken).ConfigureAwait(false);
        await Text(importer, run.Error, cancellationToken).ConfigureAwait(false);
        await Number(importer, run.InputTokens, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
        await Number(importer, run.OutputTokens, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
        await Number(importer, run.CostUsd, NpgsqlDbType.Double, cancellationToken).ConfigureAwait(false);
        await Text(importer, run.Tags, cancellationToken).ConfigureAwait(false);
        await Text(importer, run.Metadata, cancellationToken).ConfigureAwait(false);
        await Text(importer, run.UserId, cancellationToken).ConfigureAwait(false);
    }

    private static Task Text(NpgsqlBinaryImporter importer, string? value, CancellationToken cancellationToken) =>
        value is null ? importer.WriteNullAsync(cancellationToken) : importer.WriteAsync(value, NpgsqlDbType.Text, cancellationToken);

    private static Task Number<T>(NpgsqlBinaryImporter importer, T? value, NpgsqlDbType type, CancellationToken cancellationToken)
        where T : struct =>
        value is { } v ? importer.WriteAsync(v, type, cancellationToken) : importer.WriteNullAsync(cancellationToken);
}
