using System.Globalization;
using System.Text.Json;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;

namespace RunLedger.Cli.Demo;

/// <summary>The overnight workload <c>runledger demo</c> sends.</summary>
internal static class DemoWorkload
{
    private static readonly string[] Models = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4", "llama-3.1-70b"];
    private static readonly string[] Repositories = ["acme/web", "acme/api", "acme/mobile"];
    private static readonly string[] Tickets =
    [
        "Customer asks whether the refund policy covers annual plans bought through a reseller.",
        "Login fails with 'invalid token' after the password reset email.",
        "Export to CSV drops the last column when a field contains a comma.",
        "Invoice shows the wrong VAT number for the Berlin office.",
    ];

    /// <summary>
    /// Yields the workload in ingest batches of about <paramref name="batchSize"/> items.
    /// TODO: replace the body with the shared generator once it is merged:
    /// <c>new WorkloadGenerator(new WorkloadOptions { Seed = seed, NightStart = nightStart, TargetRuns = runs }).Generate(batchSize)</c>.
    /// Until then this builds a small but honest night inline: sessions, nested pipeline runs
    /// with LLM and tool children, failures and a timeout, usage and cost.
    /// </summary>
    public static IEnumerable<IngestRequest> Generate(int seed, int runs, DateTimeOffset nightStart, int batchSize)
    {
        var random = new Random(seed);
        var sessions = new List<SessionPayload>();
        var pending = new List<RunPayload>();
        var events = new List<EventPayload>();
        var sessionCount = Math.Clamp(runs / 40, 1, 6);
        var written = 0;

        for (var s = 0; s < sessionCount && written < runs; s++)
        {
            var sessionId = string.Create(CultureInfo.InvariantCulture, $"nightly-{nightStart:yyyy-MM-dd}-{seed}-{s + 1}");
            var repository = Repositories[s % Repositories.Length];
            var time = nightStart.AddMinutes(s * 37);
            var pipelinesInSession = Math.Max(1, (runs - written) / Math.Max(1, (sessionCount - s) * 4));
            var sessionFailed = false;

            for (var p = 0; p < pipelinesInSession && written < runs; p++)
            {
                var pipelineId = NewId(random, time);
                var pipelineStart = time;
                var ticket = Tickets[random.Next(Tickets.Length)];
                var children = new List<RunPayload>();
                var failed = false;

                // retrieval -> llm (summarize) -> tool -> llm (answer): four children per pipeline.
                string[] steps = ["retrieval", "llm", "tool", "llm"];
                foreach (var kind in steps)
                {
                    if (written + children.Count + 1 >= runs)
                    {
                        break;
                    }

                    var durationMs = kind == "llm" ? 600 + random.Next(4_000) : 40 + random.Next(400);
                    var model = kind == "llm" ? Models[random.Next(Models.Length)] : null;
                    var roll = random.NextDouble();
                    var status = roll < 0.04 ? "failed" : roll < 0.055 && kind == "llm" ? "timeout" : "succeeded";
                    if (status == "timeout")
                    {
                        durationMs = 30_000;
                    }

                    var inputTokens = kind == "llm" ? 400 + random.Next(3_000) : (long?)null;
                    var outputTokens = kind == "llm" && status == "succeeded" ? 50 + random.Next(800) : (long?)null;
                    children.Add(new RunPayload
                    {
                        Id = NewId(random, time),
                        SessionId = sessionId,
                        ParentId = pipelineId,
                        Kind = kind,
                        Name = kind switch
                        {
                            "retrieval" => "search-knowledge-base",
                            "tool" => "lookup-customer",
                            _ => children.Any(c => c.Kind == "llm") ? "draft-answer" : "summarize-ticket",
                        },
                        Status = status,
                        StartedAt = time,
                        EndedAt = time.AddMilliseconds(durationMs),
                        Model = model,
                        Provider = model is null ? null : model.StartsWith("gpt", StringComparison.Ordinal) ? "openai" : model.StartsWith("claude", StringComparison.Ordinal) ? "anthropic" : "together",
                        Parameters = model is null ? null : RawJson.Parse("{\"temperature\":0.2}"),
                        Input = kind == "llm"
                            ? Json(new[] { new { role = "system", content = "You are a support assistant. Answer from the knowledge base only." }, new { role = "user", content = ticket } })
                            : Json(new { query = ticket }),
                        Output = status == "succeeded" ? RawJson.FromString(kind == "llm" ? "Based on the knowledge base: " + ticket.ToUpperInvariant()[..20] + "..." : "3 documents") : null,
                        Error = status switch
                        {
                            "failed" when kind == "tool" => new RunError { Type = "HttpRequestException", Message = "crm.internal:443 refused the connection", Stack = "at Crm.Client.LookupAsync()\n at Agent.Tools.Run()" },
                            "failed" => new RunError { Type = "RateLimitError", Message = "429 Too Many Requests: rate limit for the organization exceeded" },
                            "timeout" => new RunError { Type = "TimeoutException", Message = "No answer from the model within 30 s" },
                            _ => null,
                        },
                        Usage = inputTokens is null ? null : new Usage { InputTokens = inputTokens, OutputTokens = outputTokens, CachedTokens = random.Next(2) * 256 },
                        CostUsd = inputTokens is null ? null : Math.Round(((inputTokens ?? 0) * 2.5m + (outputTokens ?? 0) * 10m) / 1_000_000m, 6),
                        Tags = ["nightly", "demo"],
                        Metadata = Json(new { repository }),
                    });
                    time = time.AddMilliseconds(durationMs + random.Next(200));
                    if (status != "succeeded")
                    {
                        failed = true;
                        break;
                    }
                }

                sessionFailed |= failed;
                pending.Add(new RunPayload
                {
                    Id = pipelineId,
                    SessionId = sessionId,
                    Kind = "pipeline",
                    Name = "answer-support-ticket",
                    Status = failed ? "failed" : "succeeded",
                    StartedAt = pipelineStart,
                    EndedAt = time,
                    Error = failed ? children[^1].Error : null,
                    Tags = ["nightly", "demo"],
                    Metadata = Json(new { repository }),
                    Input = Json(new { ticket }),
                });
                pending.AddRange(children);
                written += children.Count + 1;
                time = time.AddSeconds(5 + random.Next(120));
            }

            events.Add(new EventPayload
            {
                Type = "heartbeat",
                Time = time,
                SessionId = sessionId,
                Name = "agent-runner",
                Data = Json(new { queue = random.Next(10), memoryMb = 300 + random.Next(200) }),
                IdempotencyKey = sessionId + "-heartbeat",
            });
            sessions.Add(new SessionPayload
            {
                Id = sessionId,
                Name = "nightly support eval " + repository,
                StartedAt = nightStart.AddMinutes(s * 37),
                EndedAt = s == sessionCount - 1 ? null : time,
                State = s == sessionCount - 1 ? SessionStates.Active : sessionFailed ? SessionStates.Failed : SessionStates.Completed,
                Metadata = Json(new { repository }),
            });
        }

        yield return new IngestRequest { Sessions = sessions };
        foreach (var chunk in pending.Chunk(Math.Max(1, batchSize)))
        {
            yield return new IngestRequest { Runs = [.. chunk] };
        }

        yield return new IngestRequest { Events = events };
    }

    private static RawJson Json<T>(T value) => new(JsonSerializer.Serialize(value));

    /// <summary>A UUIDv7-shaped id for <paramref name="time"/> from the seeded generator, so a seed always yields the same ids.</summary>
    private static string NewId(Random random, DateTimeOffset time)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        var ms = time.ToUnixTimeMilliseconds();
        for (var i = 0; i < 6; i++)
        {
            bytes[i] = (byte)(ms >> (8 * (5 - i)));
        }

        bytes[6] = (byte)(0x70 | (bytes[6] & 0x0F));
        bytes[8] = (byte)(0x80 | (bytes[8] & 0x3F));
        return new Guid(bytes, bigEndian: true).ToString();
    }
}
