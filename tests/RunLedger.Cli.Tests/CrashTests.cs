using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace RunLedger.Cli.Tests;

/// <summary>
/// The durability promise: kill the server (SIGKILL) while clients stream ingest batches; after a
/// restart every acknowledged run is there, none twice, the projections agree with the rows,
/// search finds each by its own words and no other, and SQLite's integrity check passes on the
/// ledger and on its full-text index file.
/// </summary>
public sealed class CrashTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Serve_KilledMidIngest_KeepsEveryAcknowledgedRun(int seed)
    {
        var directory = Path.Combine(Path.GetTempPath(), "runledger-crash", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var random = new Random(seed);
        var acknowledged = new ConcurrentDictionary<Guid, string>();
        var port = ServerProcess.FreePort();

        await using (var server = await ServerProcess.StartAsync(directory, port))
        {
            using var client = new HttpClient { BaseAddress = new Uri(server.Url), Timeout = TimeSpan.FromSeconds(30) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ServerProcess.AdminKey);
            using var stop = new CancellationTokenSource();
            var writers = Enumerable.Range(0, 3).Select(w => Task.Run(() => WriteUntilFailureAsync(client, w, acknowledged, stop.Token))).ToArray();

            // Let some batches be acknowledged, then kill the server in the middle of the stream.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (acknowledged.Count < 300 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }

            await Task.Delay(random.Next(50, 400));
            server.Kill();
            await stop.CancelAsync();
            await Task.WhenAll(writers);
        }

        acknowledged.Count.ShouldBeGreaterThan(0, "no batch was acknowledged before the kill");

        await using (var restarted = await ServerProcess.StartAsync(directory, ServerProcess.FreePort()))
        {
            using var client = new HttpClient { BaseAddress = new Uri(restarted.Url) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ServerProcess.AdminKey);
            foreach (var id in acknowledged.Keys.Take(5))
            {
                using var response = await client.GetAsync($"/v1/runs/{id}");
                response.StatusCode.ShouldBe(HttpStatusCode.OK);
            }

            // Search finds each acknowledged run by a word only it has, and no other run, whether
            // the killed indexer had reached it or not (its input ends with its own id).
            foreach (var id in acknowledged.Keys.Take(20))
            {
                var word = id.ToString()[^12..];
                var json = await client.GetStringAsync($"/v1/runs?q={Uri.EscapeDataString("\"" + word + "\"")}&limit=10");
                using var page = JsonDocument.Parse(json);
                var found = page.RootElement.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("id").GetGuid()).ToList();
                found.ShouldBe([id], $"search for {word}");
            }
        }

        using var connection = new SqliteConnection($"Data Source={Path.Combine(directory, "runledger.db")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        Text(connection, "PRAGMA integrity_check;").ShouldBe("ok");
        var stored = new HashSet<Guid>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT id FROM runs;";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                stored.Add(new Guid((byte[])reader.GetValue(0), bigEndian: true)).ShouldBeTrue("a run is stored twice");
            }
        }

        var missing = acknowledged.Keys.Where(id => !stored.Contains(id)).ToList();
        missing.ShouldBeEmpty($"{missing.Count} of {acknowledged.Count} acknowledged runs are missing");

        // Projections are in the same transaction as the rows, so they agree after the crash.
        Number(connection, "SELECT coalesce(sum(count), 0) FROM rollups WHERE bucket_size = 86400;").ShouldBe(stored.Count);
        Number(connection, "SELECT coalesce(sum(run_count), 0) FROM sessions;").ShouldBe(Number(connection, "SELECT count(*) FROM runs WHERE session_key IS NOT NULL;"));
        // The ledger's run events are packed (SqliteRunEvents): status 'succeeded' (1) in the low bits of the first byte, no run.updated bit.
        Number(connection, "SELECT count(*) FROM events WHERE typeof(data) = 'blob' AND substr(hex(substr(data, 1, 1)), 2, 1) = '1';").ShouldBe(stored.Count);

        // The index file (derived data, written by its own connection) is consistent too.
        using (var index = new SqliteConnection($"Data Source={Path.Combine(directory, "runledger.db.fts")};Pooling=False"))
        {
            index.Open();
            Text(index, "PRAGMA integrity_check;").ShouldBe("ok");
            using var check = index.CreateCommand();
            check.CommandText = "INSERT INTO runs_fts (runs_fts) VALUES ('integrity-check');";
            check.ExecuteNonQuery();
        }

        connection.Close();
        SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }

    private static async Task WriteUntilFailureAsync(HttpClient client, int writer, ConcurrentDictionary<Guid, string> acknowledged, CancellationToken cancellationToken)
    {
        var body = new string('x', 400);
        var batch = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var ids = Enumerable.Range(0, 50).Select(_ => Guid.CreateVersion7()).ToArray();
            var json = new StringBuilder("{\"runs\":[");
            for (var i = 0; i < ids.Length; i++)
            {
                var started = DateTimeOffset.UtcNow.AddSeconds(-5).ToString("O", CultureInfo.InvariantCulture);
                var ended = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);
                json.Append(i == 0 ? string.Empty : ",")
                    .Append(CultureInfo.InvariantCulture, $"{{\"id\":\"{ids[i]}\",\"kind\":\"llm\",\"name\":\"crash-{writer}\",\"model\":\"m{i % 3}\",\"status\":\"succeeded\",")
                    .Append(CultureInfo.InvariantCulture, $"\"startedAt\":\"{started}\",\"endedAt\":\"{ended}\",\"sessionId\":\"writer-{writer}\",")
                    .Append(CultureInfo.InvariantCulture, $"\"input\":{JsonSerializer.Serialize(body + ids[i])},\"output\":\"ok {batch}\",\"usage\":{{\"inputTokens\":100,\"outputTokens\":20}},\"costUsd\":0.001}}");
            }

            json.Append("]}");
            try
            {
                using var content = new StringContent(json.ToString(), Encoding.UTF8, "application/json");
                using var response = await client.PostAsync("/v1/ingest", content, CancellationToken.None);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    return;
                }

                foreach (var id in ids)
                {
                    acknowledged[id] = "ok";
                }
            }
            catch (HttpRequestException)
            {
                return;
            }
            catch (TaskCanceledException)
            {
                return;
            }

            batch++;
        }
    }

    private static string Text(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(command.ExecuteScalar(), CultureInfo.InvariantCulture)!;
    }

    private static long Number(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }
}
