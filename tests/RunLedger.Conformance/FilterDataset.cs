using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Storage;

namespace RunLedger.Conformance;

/// <summary>
/// The fixed data every filter case runs against, written through the store contract at
/// <see cref="StoreConformance.Now"/>: five runs in one project, three client events in another
/// and two sessions (with runs feeding their totals) in a third, so the log events and totals the
/// store writes itself never mix into another target's answers.
/// </summary>
internal static class FilterDataset
{
    public const string AllRuns = "summarize,chat,search,plan,classify";

    public static readonly Guid Summarize = Guid.Parse("0192f0c4-6d2a-7cc1-9a3e-000000000001");
    public static readonly Guid Chat = Guid.Parse("0192f0c4-6d2a-7cc1-9a3e-000000000002");
    public static readonly Guid Search = Guid.Parse("0192f0c4-6d2a-7cc1-9a3e-000000000003");
    public static readonly Guid Plan = Guid.Parse("0192f0c4-6d2a-7cc1-9a3e-000000000004");
    public static readonly Guid Classify = Guid.Parse("0192f0c4-6d2a-7cc1-9a3e-000000000005");

    private static readonly Guid[] RunOrder = [Summarize, Chat, Search, Plan, Classify];
    private static readonly string[] RunNames = ["summarize", "chat", "search", "plan", "classify"];

    public static string NameOf(Guid id) => RunNames[Array.IndexOf(RunOrder, id)];

    /// <summary>Names in dataset order, comma-separated, as the cases write them.</summary>
    public static string RunList(IEnumerable<Guid> ids) => string.Join(',', ids.Select(id => Array.IndexOf(RunOrder, id)).Order().Select(i => RunNames[i]));

    public static async Task<Projects> SeedAsync(ILedgerStore store, CancellationToken cancellationToken)
    {
        var runs = (await store.Admin.GetOrCreateProjectAsync("filter-runs", cancellationToken)).Id;
        var events = (await store.Admin.GetOrCreateProjectAsync("filter-events", cancellationToken)).Id;
        var sessions = (await store.Admin.GetOrCreateProjectAsync("filter-sessions", cancellationToken)).Id;
        var now = StoreConformance.Now;
        var h = TimeSpan.FromHours(1);

        var summarize = new RunWrite
        {
            Id = Summarize, Name = "summarize", Kind = RunKind.Llm, Status = RunStatus.Failed, StartedAt = now - (2 * h), EndedAt = now - (2 * h) + TimeSpan.FromSeconds(45),
            Model = "gpt-4o-mini", Provider = "openai", CostUsd = 0.005m, Usage = new Usage { InputTokens = 1200, OutputTokens = 800, CachedTokens = 100 },
            Metadata = RawJson.Parse("""{"repository":"acme/web","attempt":3,"flag":true}"""), Tags = ["nightly", "eval"],
            Error = new RunError { Type = "RateLimitError", Message = "rate limit exceeded" }, UserId = "alice", SessionId = "s1",
            Input = RawJson.FromString("The customer asked about our refund policy"),
        };
        var chat = new RunWrite
        {
            Id = Chat, Name = "chat", Kind = RunKind.Llm, Status = RunStatus.Succeeded, StartedAt = now - (30 * h), EndedAt = now - (30 * h) + TimeSpan.FromSeconds(5),
            Model = "claude-sonnet-4", Provider = "anthropic", CostUsd = 0.02m, Usage = new Usage { InputTokens = 100, OutputTokens = 300, ReasoningTokens = 50 },
            Metadata = RawJson.Parse("""{"repository":"acme/api","attempt":"1"}"""), Tags = ["nightly"], UserId = "bob", SessionId = "s1", ParentId = Summarize,
            Input = RawJson.Parse("""{"messages":[{"role":"user","content":"shipping times to Canada"}]}"""),
        };
        var search = new RunWrite
        {
            Id = Search, Name = "search", Kind = RunKind.Tool, Status = RunStatus.Failed, StartedAt = now - h, EndedAt = now - h + TimeSpan.FromMilliseconds(250),
            Error = new RunError { Type = "TimeoutError", Message = "tool timed out after 30s" },
            Input = RawJson.FromString("refund policy lookup"),
        };
        var plan = new RunWrite
        {
            Id = Plan, Name = "plan", Kind = RunKind.Agent, Status = RunStatus.Timeout, StartedAt = new DateTimeOffset(2026, 10, 31, 23, 0, 0, TimeSpan.Zero),
            EndedAt = new DateTimeOffset(2026, 11, 1, 1, 0, 0, TimeSpan.Zero), Model = "gpt-4o", Provider = "openai", CostUsd = 0.001m,
            Usage = new Usage { InputTokens = 300, OutputTokens = 600 },
            Metadata = RawJson.Parse("""{"repository":"o'brien\"; DROP TABLE runs; --","attempt":10,"gone":null}"""), Tags = ["a[1]?*"],
            Input = RawJson.FromString("plan the weekly digest"),
        };
        var classify = new RunWrite
        {
            Id = Classify, Name = "classify", Kind = RunKind.Llm, Status = RunStatus.Succeeded, StartedAt = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero),
            EndedAt = new DateTimeOffset(2026, 11, 1, 0, 0, 31, TimeSpan.Zero), Model = "GPT-4o", Provider = "openai", CostUsd = 0.009m,
            Usage = new Usage { InputTokens = 199, OutputTokens = 501 }, Metadata = RawJson.Parse("""{"repository":"acme/web","a.b":"dotted","a":{"b":"nested"},"x-y_z":2}"""), Tags = ["eval"],
            Input = RawJson.FromString("classify ticket sentiment"), Output = RawJson.FromString("Negative: Café Zoë was closed"),
        };

        await WriteOk(store, runs, "api", [summarize, search], [], [], cancellationToken);
        await WriteOk(store, runs, "sdk", [chat, classify], [], [], cancellationToken);
        await WriteOk(store, runs, "otlp", [plan], [], [], cancellationToken);

        await WriteOk(store, events, "api", [], [
            new EventWrite { Type = "run.started", Time = now - (2 * h), SessionId = "s1", RunId = Summarize, Data = RawJson.Parse("""{"note":"Refund requested"}"""), IdempotencyKey = "e1" },
            new EventWrite { Type = "run.failed", Time = now - h, SessionId = "s1", RunId = Summarize, Data = RawJson.Parse("""{"error":"rate limit"}"""), IdempotencyKey = "e2" },
            new EventWrite { Type = "intervention_request", Time = now - (30 * h), Name = "approval", IdempotencyKey = "e3" },
        ], [], cancellationToken);

        await WriteOk(
            store,
            sessions,
            "api",
            [
                new RunWrite { Id = Guid.CreateVersion7(now), SessionId = "s1", StartedAt = now - (29 * h), EndedAt = now - (29 * h), Status = RunStatus.Failed, CostUsd = 1m, Usage = new Usage { InputTokens = 600, OutputTokens = 100 } },
                new RunWrite { Id = Guid.CreateVersion7(now), SessionId = "s1", StartedAt = now - (28 * h), EndedAt = now - (28 * h), Status = RunStatus.Timeout, CostUsd = 1m, Usage = new Usage { InputTokens = 400, OutputTokens = 100 } },
                new RunWrite { Id = Guid.CreateVersion7(now), SessionId = "s1", StartedAt = now - (27 * h), EndedAt = now - (27 * h), Status = RunStatus.Succeeded, CostUsd = 0.5m },
                new RunWrite { Id = Guid.CreateVersion7(now), SessionId = "s2", StartedAt = now - (0.5 * h) },
            ],
            [],
            [
                new SessionWrite { Id = "s1", Name = "nightly batch", State = "completed", StartedAt = now - (30 * h), EndedAt = now - (20 * h), Metadata = RawJson.Parse("""{"persona":"buyer"}""") },
                new SessionWrite { Id = "s2", Name = "Playground", StartedAt = now - h },
            ],
            cancellationToken);

        return new Projects(runs, events, sessions);
    }

    private static async Task WriteOk(ILedgerStore store, long project, string source, IReadOnlyList<RunWrite> runs, IReadOnlyList<EventWrite> events, IReadOnlyList<SessionWrite> sessions, CancellationToken cancellationToken)
    {
        var batch = new WriteBatch { ProjectId = project, Source = source, ReceivedAt = StoreConformance.Now, Runs = runs, Events = events, Sessions = sessions };
        var result = (await store.Writer.WriteAsync([batch], cancellationToken)).Single();
        result.Error.ShouldBeNull();
        result.Outcome!.Rejected.ShouldBeEmpty();
    }

    /// <summary>The three projects of the dataset.</summary>
    public sealed record Projects(long Runs, long Events, long Sessions);
}
