using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Payloads;
using RunLedger.Core.Query;

namespace RunLedger.Conformance;

/// <summary>
/// What is written comes back as sent, whatever the path it took: bodies prepared on many submitting threads at once
/// (pooled buffers, per-thread extraction state) and parameters/metadata stored from the
/// request's UTF-8 must read back exactly as sent.
/// </summary>
public abstract class WriteRoundTripConformance : StoreConformance
{
    private static PayloadOptions SmallOptions() => new()
    {
        MaxBodyBytes = 100_000,
        TruncatedHeadBytes = 2_000,
        DictionaryMaxBytes = 4 * 1024,
        DictionarySampleBytes = 64 * 1024,
        DictionaryRetrainBytes = 256 * 1024,
    };

    /// <summary>A value as the HTTP path has it (the request's UTF-8) or as in-process callers send it (text).</summary>
    private static RawJson Json(string text, bool fromUtf8) =>
        fromUtf8 ? JsonSerializer.Deserialize<RawJson>(Encoding.UTF8.GetBytes(text))! : new RawJson(text);

    /// <summary>A word made only of letters, so every store's tokenizer keeps it whole.</summary>
    private static string Word(int t, int b, int r) =>
        "qz" + new string([.. string.Create(CultureInfo.InvariantCulture, $"{t}x{b}x{r}").Select(c => c == 'x' ? 'y' : (char)('a' + (c - '0')))]);

    private static string Filler(Random random, int bytes)
    {
        var sb = new StringBuilder(bytes + 16);
        string[] words = ["alpha", "beta", "gamma", "caf\u00e9", "\u65e5\u672c", "\u00fcber", "token", "reply", "\\u00e9t\u00e9", "tab\\there", "quote\\\"d"];
        while (sb.Length < bytes)
        {
            sb.Append(words[random.Next(words.Length)]).Append(' ');
            if (random.Next(50) == 0)
            {
                sb.Append("\\ud83d\\ude00 ");
            }
        }

        return sb.ToString();
    }

    private static string? Body(int kind, string word, Random random) => kind switch
    {
        0 => "\"" + word + " short\"",
        1 => "{\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},{\"content\":\"" + word + " " + Filler(random, 250) + "\",\"role\":\"user\"}],\"n\":1e400}",
        2 => "{ \"a\" : [ \"" + word + "\" , { \"b\" : \"" + Filler(random, 3_000) + "\" } ] }",
        3 => "\"" + word + " " + Filler(random, 40_000) + "\"",
        4 => "{\"role\":\"assistant\",\"content\":\"" + word + " " + Filler(random, 150_000) + "\"}",
        _ => null,
    };

    [Fact]
    public async Task ConcurrentSubmitters_VariedBodies_ReadBackExactlyAndAreFound()
    {
        const int Tasks = 6, Batches = 8, Runs = 8;
        var (store, project) = await OpenWithProjectAsync(SmallOptions());
        await using var pipeline = new IngestPipeline(store.Writer, new IngestOptions(), new LedgerChangeNotifier(), NullLogger<IngestPipeline>.Instance);
        pipeline.Start();

        var sent = new System.Collections.Concurrent.ConcurrentDictionary<Guid, (string? Input, string? Output, string Parameters, string Metadata, string Word)>();
        using var start = new ManualResetEventSlim(false);
        var submitters = Enumerable.Range(0, Tasks).Select(t => Task.Factory.StartNew(
            () =>
            {
                start.Wait(Ct);
                var random = new Random(t);
                for (var b = 0; b < Batches; b++)
                {
                    var runs = new List<RunWrite>();
                    for (var r = 0; r < Runs; r++)
                    {
                        var word = Word(t, b, r);
                        var kind = (t + b + r) % 6;
                        var input = Body(kind, word, random);
                        var output = Body((kind + 3) % 6, word + "out", random) ?? "\"" + word + "out\"";
                        var fromUtf8 = (r + t) % 2 == 0;
                        var parameters = "{ \"temperature\" : 0.7 , \"big\" : 123456789012345678901234567890, \"e\":\"\\u00e9\\ud83d\\ude00\", \"w\": \"" + word + "\" }";
                        var metadata = "{\"nested\":{\"deep\":[1,{\"x\":\"caf\u00e9 \\/ \\\"q\\\"\"}]},\"i\":" + r.ToString(CultureInfo.InvariantCulture) + "}";
                        var id = NewId(Now.AddMinutes(-((t * 100) + (b * 10) + r)));
                        sent[id] = (input, output, parameters, metadata, input is null ? word + "out" : word);
                        runs.Add(new RunWrite
                        {
                            Id = id,
                            Kind = RunKind.Llm,
                            Model = "m",
                            StartedAt = Now.AddMinutes(-((t * 100) + (b * 10) + r)),
                            Input = input is null ? null : Json(input, fromUtf8),
                            Output = Json(output, !fromUtf8),
                            Parameters = Json(parameters, fromUtf8),
                            Metadata = Json(metadata, fromUtf8),
                        });
                    }

                    var batch = Batch(project, runs);
                    var outcome = pipeline.SubmitAsync(batch, Ct).GetAwaiter().GetResult();
                    outcome.Written.ShouldBe(Runs);
                }
            },
            Ct,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)).ToArray();
        start.Set();
        await Task.WhenAll(submitters);

        var wrong = new List<string>();
        foreach (var (id, s) in sent)
        {
            var run = (await GetRunAsync(store, project, id)).Run;
            Check(wrong, id, "input", s.Input, run.Input, run.InputInfo);
            Check(wrong, id, "output", s.Output, run.Output, run.OutputInfo);
            if (run.Parameters?.Text != s.Parameters)
            {
                wrong.Add($"{id} parameters: {run.Parameters?.Text} != {s.Parameters}");
            }

            if (run.Metadata?.Text != s.Metadata)
            {
                wrong.Add($"{id} metadata: {run.Metadata?.Text} != {s.Metadata}");
            }
        }

        // The search text was extracted on the submitting threads: every run is found by its word.
        var i = 0;
        foreach (var (id, s) in sent)
        {
            if (i++ % 3 != 0)
            {
                continue;
            }

            var found = await AllRunsAsync(store, project, FilterParser.Parse("\"" + s.Word + "\"", FilterTarget.Runs));
            if (found.Count != 1 || found[0].Id != id)
            {
                wrong.Add($"{id} search {s.Word}: found {string.Join(",", found.Select(f => f.Id))}");
            }
        }

        wrong.ShouldBeEmpty();
    }

    private static void Check(List<string> wrong, Guid id, string field, string? sent, RawJson? stored, PayloadInfo? info)
    {
        if (sent is null)
        {
            if (stored is not null || info is not null)
            {
                wrong.Add($"{id} {field}: stored a body that was not sent");
            }

            return;
        }

        var utf8 = Encoding.UTF8.GetBytes(sent);
        var hash = Convert.ToHexStringLower(SHA256.HashData(utf8));
        if (info is null)
        {
            wrong.Add($"{id} {field}: no payload info");
            return;
        }

        if (info.OriginalBytes != utf8.Length || !string.Equals(info.Sha256, hash, StringComparison.OrdinalIgnoreCase))
        {
            wrong.Add($"{id} {field}: info {info.OriginalBytes}/{info.Sha256} != {utf8.Length}/{hash}");
        }

        if (info.Truncated != (utf8.Length > 100_000))
        {
            wrong.Add($"{id} {field}: truncated {info.Truncated} for {utf8.Length} bytes");
        }

        if (!info.Truncated && stored?.Text != sent)
        {
            wrong.Add($"{id} {field}: body differs ({stored?.Text.Length} vs {sent.Length} chars)");
        }
    }

    public static TheoryData<string> UnusualJson() =>
    [
        "{ \"a\" : 1 ,\n\t\"b\" : [ ] }",
        "{\"e\":\"\\u00e9\\u0000\\ud83d\\ude00\\/\"}",
        "{\"big\":123456789012345678901234567890123,\"tiny\":1e-400,\"neg\":-0.0}",
        "{\"deep\":" + string.Concat(Enumerable.Repeat("[", 60)) + "\"x\"" + string.Concat(Enumerable.Repeat("]", 60)) + "}",
        "{\"raw\":\"caf\u00e9 \u65e5\u672c \U0001F600\",\"dup\":1,\"dup\":2}",
        "{\"lone\":\"\\ud800\"}",
        "{}",
        "{\"long\":\"" + new string('x', 60_000) + "\"}",
    ];

    [Theory]
    [MemberData(nameof(UnusualJson))]
    public async Task ParametersAndMetadata_UnusualJson_ReadBackAsSent(string json)
    {
        var (store, project) = await OpenWithProjectAsync();
        await using var pipeline = new IngestPipeline(store.Writer, new IngestOptions(), new LedgerChangeNotifier(), NullLogger<IngestPipeline>.Instance);
        pipeline.Start();
        foreach (var fromUtf8 in new[] { true, false })
        {
            var id = NewId();
            var write = new RunWrite { Id = id, Kind = RunKind.Llm, StartedAt = Now, Parameters = Json(json, fromUtf8), Metadata = Json(json, fromUtf8) };
            (await pipeline.SubmitAsync(Batch(project, [write]), Ct)).Written.ShouldBe(1);
            var run = (await GetRunAsync(store, project, id)).Run;
            run.Parameters.ShouldNotBeNull().Text.ShouldBe(json, $"parameters, utf8={fromUtf8}");
            run.Metadata.ShouldNotBeNull().Text.ShouldBe(json, $"metadata, utf8={fromUtf8}");
            (await AllRunsAsync(store, project)).Single(r => r.Id == id).Parameters!.Text.ShouldBe(json);

            // The update path (read, merge, update) keeps them as sent too.
            var changed = "{ \"changed\" : " + json + " }";
            var update = new RunWrite { Id = id, Parameters = Json(changed, fromUtf8), Metadata = Json(changed, fromUtf8), Status = RunStatus.Succeeded, EndedAt = Now.AddSeconds(1) };
            (await pipeline.SubmitAsync(Batch(project, [update]), Ct)).Written.ShouldBe(1);
            run = (await GetRunAsync(store, project, id)).Run;
            run.Parameters.ShouldNotBeNull().Text.ShouldBe(changed);
            run.Metadata.ShouldNotBeNull().Text.ShouldBe(changed);
        }
    }

    [Fact]
    public async Task BodiesAroundTheLimit_FromTextOrUtf8_KeepTheirSizeHashAndTruncation()
    {
        var (store, project) = await OpenWithProjectAsync(SmallOptions());
        await using var pipeline = new IngestPipeline(store.Writer, new IngestOptions(), new LedgerChangeNotifier(), NullLogger<IngestPipeline>.Instance);
        pipeline.Start();
        var wrong = new List<string>();
        foreach (var bytes in new[] { 99_998, 99_999, 100_000, 100_001, 100_002, 131_072, 131_073 })
        {
            foreach (var fromUtf8 in new[] { true, false })
            {
                // Quotes plus 3-byte characters plus ASCII padding to the exact UTF-8 length.
                var threeByte = (bytes - 2) / 3;
                var text = "\"" + new string('\u65e5', threeByte - 1) + new string('a', bytes - 2 - ((threeByte - 1) * 3)) + "\"";
                Encoding.UTF8.GetByteCount(text).ShouldBe(bytes);
                var id = NewId();
                var metadata = "{\"repository\":\"caf\\u00e9/web\"}";
                var write = new RunWrite { Id = id, Kind = RunKind.Llm, StartedAt = Now, Input = Json(text, fromUtf8), Output = Json(text, !fromUtf8), Metadata = Json(metadata, fromUtf8) };
                (await pipeline.SubmitAsync(Batch(project, [write]), Ct)).Written.ShouldBe(1);
                var run = (await GetRunAsync(store, project, id)).Run;
                Check(wrong, id, "input " + bytes, text, run.Input, run.InputInfo);
                Check(wrong, id, "output " + bytes, text, run.Output, run.OutputInfo);
                var found = await AllRunsAsync(store, project, FilterParser.Parse("metadata.repository:\"caf\u00e9/web\"", FilterTarget.Runs));
                if (!found.Any(r => r.Id == id))
                {
                    wrong.Add($"{id} not found by its metadata (utf8={fromUtf8})");
                }
            }
        }

        wrong.ShouldBeEmpty();
    }
}
