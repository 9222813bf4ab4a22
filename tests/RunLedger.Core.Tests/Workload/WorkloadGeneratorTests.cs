using System.Text;
using System.Text.Json;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;
using RunLedger.Core.Workload;

namespace RunLedger.Core.Tests.Workload;

public sealed class WorkloadGeneratorTests
{
    private static readonly DateTimeOffset Night = new(2026, 11, 21, 22, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Generate_SameSeed_GivesIdenticalOutput()
    {
        var options = new WorkloadOptions { Seed = 7, NightStart = Night, TargetRuns = 800, LargeBodyEvery = 100 };
        var generator = new WorkloadGenerator(options);

        var first = Serialize(new WorkloadGenerator(options).Generate(64));
        var second = Serialize(new WorkloadGenerator(options).Generate(64));
        var sequence = generator.Generate(64);
        var third = Serialize(sequence);
        var again = Serialize(sequence);

        second.ShouldBe(first);
        third.ShouldBe(first);
        again.ShouldBe(first);
    }

    [Fact]
    public void Generate_DifferentSeeds_Differ()
    {
        var a = Serialize(new WorkloadGenerator(new WorkloadOptions { Seed = 1, NightStart = Night }).Generate(100));
        var b = Serialize(new WorkloadGenerator(new WorkloadOptions { Seed = 2, NightStart = Night }).Generate(100));

        b.ShouldNotBe(a);
    }

    [Theory]
    [InlineData(0, 6)]
    [InlineData(1, 6)]
    [InlineData(2, 1)]
    [InlineData(7, 3)]
    [InlineData(500, 6)]
    [InlineData(5003, 10)]
    public void Generate_ProducesExactlyTargetRuns(int targetRuns, int sessions)
    {
        var workload = Workload.Create(new WorkloadOptions { TargetRuns = targetRuns, Sessions = sessions, NightStart = Night }, 100);

        workload.Runs.Count.ShouldBe(targetRuns);
        workload.Sessions.Count.ShouldBe(sessions);
    }

    [Fact]
    public void Generate_BatchesAreSessionsThenRunsThenEvents_AndNeverLargerThanTheBatchSize()
    {
        var requests = new WorkloadGenerator(new WorkloadOptions { NightStart = Night, TargetRuns = 1000 }).Generate(97).ToList();

        var phases = requests.Select(r => r.Sessions is not null ? 0 : r.Runs is not null ? 1 : 2).ToList();
        phases.ShouldBe(phases.Order().ToList());
        phases.Distinct().Count().ShouldBe(3);
        foreach (var request in requests)
        {
            ((request.Sessions?.Count ?? 0) + (request.Runs?.Count ?? 0) + (request.Events?.Count ?? 0)).ShouldBeInRange(1, 97);
            new[] { request.Sessions is not null, request.Runs is not null, request.Events is not null }.Count(x => x).ShouldBe(1);
        }
    }

    [Fact]
    public void Generate_FailureRate_IsNearTheOption()
    {
        var workload = Workload.Create(new WorkloadOptions { Seed = 3, NightStart = Night, TargetRuns = 5000 }, 500);

        var failed = workload.Runs.Count(r => r.Status is "failed" or "timeout");
        var rate = (double)failed / workload.Runs.Count;

        rate.ShouldBeInRange(0.015, 0.05);
        workload.Runs.Count(r => r.Status == "timeout").ShouldBeGreaterThan(0);
        workload.Runs.Where(r => r.Status is "failed" or "timeout").ShouldAllBe(r => r.Error != null && r.Error.Type != null && r.Error.Stack != null);
    }

    [Fact]
    public void Generate_NoFailureRate_HasNoFailures()
    {
        var workload = Workload.Create(new WorkloadOptions { NightStart = Night, TargetRuns = 2000, FailureRate = 0 }, 500);

        workload.Runs.ShouldAllBe(r => r.Status == "succeeded");
        workload.Sessions.ShouldAllBe(s => s.State == SessionStates.Completed);
    }

    [Fact]
    public void Generate_ParentsAreEarlierRunsOfTheSameSession_AndTreesAreThreeDeep()
    {
        var workload = Workload.Create(new WorkloadOptions { NightStart = Night, TargetRuns = 3000 }, 250);
        var seen = new Dictionary<string, RunPayload>();

        foreach (var run in workload.Runs)
        {
            if (run.ParentId is not null)
            {
                seen.ShouldContainKey(run.ParentId);
                seen[run.ParentId].SessionId.ShouldBe(run.SessionId);
            }

            seen[run.Id!] = run;
        }

        var depth = workload.Runs.Max(r => Depth(r, seen));
        depth.ShouldBe(3);
        workload.Runs.Where(r => r.ParentId is null).ShouldAllBe(r => r.Kind == "pipeline");
        workload.Runs.Where(r => r.Kind is "llm" or "tool" or "retrieval").ShouldAllBe(r => seen[r.ParentId!].Kind == "agent" || seen[r.ParentId!].Kind == "step");
    }

    [Fact]
    public void Generate_ChildrenRunInsideTheirParent_AndRunsInsideTheirSession()
    {
        var workload = Workload.Create(new WorkloadOptions { NightStart = Night, TargetRuns = 3000, Sessions = 4 }, 250);
        var byId = workload.Runs.ToDictionary(r => r.Id!);
        var sessions = workload.Sessions.ToDictionary(s => s.Id!);

        foreach (var run in workload.Runs)
        {
            run.EndedAt!.Value.ShouldBeGreaterThanOrEqualTo(run.StartedAt!.Value);
            var session = sessions[run.SessionId!];
            run.StartedAt.Value.ShouldBeGreaterThanOrEqualTo(session.StartedAt!.Value);
            run.EndedAt.Value.ShouldBeLessThanOrEqualTo(session.EndedAt!.Value);
            if (run.ParentId is not null)
            {
                var parent = byId[run.ParentId];
                run.StartedAt.Value.ShouldBeGreaterThanOrEqualTo(parent.StartedAt!.Value);
                run.EndedAt.Value.ShouldBeLessThanOrEqualTo(parent.EndedAt!.Value);
            }
        }

        foreach (var session in workload.Sessions)
        {
            session.StartedAt!.Value.ShouldBeGreaterThanOrEqualTo(Night);
            session.EndedAt!.Value.ShouldBeLessThanOrEqualTo(Night.AddHours(8));
            session.Name.ShouldEndWith(" 2026-11-21");
        }
    }

    [Fact]
    public void Generate_Costs_FollowThePriceTable()
    {
        var workload = Workload.Create(new WorkloadOptions { NightStart = Night, TargetRuns = 3000 }, 500);
        var prices = WorkloadGenerator.PriceTable.ToDictionary(p => p.Model);
        prices["gpt-4o"].InputUsdPerMillion.ShouldBe(2.50m);
        prices["gpt-4o"].OutputUsdPerMillion.ShouldBe(10m);

        var llmRuns = workload.Runs.Where(r => r.Kind == "llm" && r.Status == "succeeded").ToList();
        llmRuns.Count.ShouldBeGreaterThan(500);
        llmRuns.Select(r => r.Model).Distinct().Count().ShouldBe(prices.Count);
        foreach (var run in llmRuns)
        {
            var price = prices[run.Model!];
            run.Provider.ShouldBe(price.Provider);
            var expected = Math.Round(
                ((run.Usage!.InputTokens!.Value * price.InputUsdPerMillion) + (run.Usage.OutputTokens!.Value * price.OutputUsdPerMillion)) / 1_000_000m,
                9, MidpointRounding.AwayFromZero);
            run.CostUsd.ShouldBe(expected);
        }

        workload.Runs.Where(r => r.Kind != "llm").ShouldAllBe(r => r.CostUsd == null && r.Model == null);
    }

    [Fact]
    public void Generate_TokenCounts_MatchTextLength()
    {
        var workload = Workload.Create(new WorkloadOptions { NightStart = Night, TargetRuns = 2000 }, 500);

        foreach (var run in workload.Runs.Where(r => r.Kind == "llm" && r.Status == "succeeded"))
        {
            var inputChars = SearchTextLength(run.Input!);
            var outputChars = SearchTextLength(run.Output!);
            ((double)run.Usage!.InputTokens!.Value).ShouldBeInRange((inputChars / 4.0 * 0.85) - 10, (inputChars / 4.0 * 1.15) + 10);
            if (outputChars > 0)
            {
                ((double)run.Usage.OutputTokens!.Value).ShouldBeInRange((outputChars / 4.0 * 0.8) - 10, (outputChars / 4.0 * 1.4) + 60);
            }
        }
    }

    [Fact]
    public void Generate_Ids_AreUniqueUuidV7SortedByStartTime()
    {
        var workload = Workload.Create(new WorkloadOptions { NightStart = Night, TargetRuns = 5000 }, 500);

        var ids = workload.Runs.Select(r => r.Id!).Concat(workload.Sessions.Select(s => s.Id!)).ToList();
        ids.Distinct().Count().ShouldBe(ids.Count);
        ids.ShouldAllBe(id => Guid.Parse(id).Version == 7 && id == id.ToLowerInvariant());

        var byId = workload.Runs.OrderBy(r => r.Id, StringComparer.Ordinal).ToList();
        for (var i = 1; i < byId.Count; i++)
        {
            byId[i].StartedAt!.Value.ToUnixTimeMilliseconds().ShouldBeGreaterThanOrEqualTo(byId[i - 1].StartedAt!.Value.ToUnixTimeMilliseconds());
        }
    }

    [Fact]
    public void Generate_EveryRun_HasTheRequiredFieldsAndValidJson()
    {
        var workload = Workload.Create(new WorkloadOptions { NightStart = Night, TargetRuns = 2000, LargeBodyEvery = 300 }, 500);

        foreach (var run in workload.Runs)
        {
            WireNames.TryParseKind(run.Kind, out _).ShouldBeTrue();
            WireNames.TryParseStatus(run.Status, out _).ShouldBeTrue();
            run.Name.ShouldNotBeNullOrEmpty();
            run.StartedAt.ShouldNotBeNull();
            run.Tags!.ShouldContain("nightly");
            run.Metadata.ShouldNotBeNull();
            if (run.Kind == "llm")
            {
                run.Model.ShouldNotBeNullOrEmpty();
                run.Parameters.ShouldNotBeNull();
            }

            foreach (var json in new[] { run.Input, run.Output, run.Parameters, run.Metadata })
            {
                if (json is not null)
                {
                    Should.NotThrow(() => json.ToDocument().Dispose());
                }
            }
        }

        workload.Sessions.ShouldAllBe(s => s.Metadata != null && s.Name != null && s.State != null);
        foreach (var json in workload.Sessions.Select(s => s.Metadata!).Concat(workload.Events.Select(e => e.Data!)))
        {
            Should.NotThrow(() => json.ToDocument().Dispose());
        }

        using var metadata = workload.Runs[0].Metadata!.ToDocument();
        foreach (var key in new[] { "repository", "persona", "vendor_domain", "prospect_domain" })
        {
            metadata.RootElement.TryGetProperty(key, out _).ShouldBeTrue();
        }

        workload.Runs.Count(r => r.Output is not null && r.Output.Text.Length > 1024 * 1024).ShouldBeGreaterThan(0);
        workload.Runs.Count(r => r.UserId is not null).ShouldBeGreaterThan(0);
        workload.Runs.Count(r => r.Input is not null && r.Input.Kind == JsonValueKind.String && r.Kind == "llm").ShouldBeGreaterThan(0);
    }

    [Fact]
    public void Generate_SystemPrompts_AreLongAndSharedPerTemplate()
    {
        var workload = Workload.Create(new WorkloadOptions { NightStart = Night, TargetRuns = 3000 }, 500);

        var systemPrompts = new Dictionary<string, HashSet<string>>();
        foreach (var run in workload.Runs.Where(r => r.Kind == "llm" && r.Input!.Kind == JsonValueKind.Array))
        {
            using var input = run.Input!.ToDocument();
            input.RootElement[0].GetProperty("role").GetString().ShouldBe("system");
            input.RootElement[1].GetProperty("role").GetString().ShouldBe("user");
            var system = input.RootElement[0].GetProperty("content").GetString()!;
            if (!systemPrompts.TryGetValue(run.Name!, out var set))
            {
                systemPrompts[run.Name!] = set = [];
            }

            set.Add(system);
        }

        systemPrompts.Count.ShouldBeGreaterThanOrEqualTo(20);
        systemPrompts.Values.ShouldAllBe(set => set.Count == 1);
        systemPrompts.Values.ShouldAllBe(set => set.First().Split(' ', StringSplitOptions.None).Length >= 200);
    }

    [Fact]
    public void Generate_Events_ReferToGeneratedRunsAndSessions()
    {
        var workload = Workload.Create(new WorkloadOptions { NightStart = Night, TargetRuns = 5000 }, 500);
        var runIds = workload.Runs.Select(r => r.Id).ToHashSet();
        var sessionIds = workload.Sessions.Select(s => s.Id).ToHashSet();

        workload.Events.Select(e => e.Type).Distinct().Order().ShouldBe(["heartbeat", "intervention_request", "timeout_triggered", "user_feedback"]);
        workload.Events.ShouldAllBe(e => sessionIds.Contains(e.SessionId) && (e.RunId == null || runIds.Contains(e.RunId)));
        workload.Events.Select(e => e.IdempotencyKey).Distinct().Count().ShouldBe(workload.Events.Count);
        workload.Events.Select(e => e.Time).ShouldBe(workload.Events.Select(e => e.Time).Order());
    }

    [Fact]
    public void Constructor_InvalidOptions_Throws()
    {
        Should.Throw<ArgumentException>(() => new WorkloadGenerator(new WorkloadOptions { Sessions = 0, FailureRate = 2 }))
            .Message.ShouldContain("FailureRate");
        Should.Throw<ArgumentOutOfRangeException>(() => new WorkloadGenerator(new WorkloadOptions()).Generate(0));
    }

    private static int Depth(RunPayload run, Dictionary<string, RunPayload> byId) =>
        run.ParentId is null ? 1 : 1 + Depth(byId[run.ParentId], byId);

    private static int SearchTextLength(RawJson json) =>
        RunLedger.Core.Payloads.PayloadText.ExtractSearchText(json.Text, int.MaxValue).Length;

    private static string Serialize(IEnumerable<IngestRequest> requests)
    {
        var builder = new StringBuilder();
        foreach (var request in requests)
        {
            builder.Append(JsonSerializer.Serialize(request, LedgerJson.Options)).Append('\n');
        }

        return builder.ToString();
    }

    private sealed record Workload(List<SessionPayload> Sessions, List<RunPayload> Runs, List<EventPayload> Events)
    {
        public static Workload Create(WorkloadOptions options, int batchSize)
        {
            var requests = new WorkloadGenerator(options).Generate(batchSize).ToList();
            return new Workload(
                requests.SelectMany(r => r.Sessions ?? []).ToList(),
                requests.SelectMany(r => r.Runs ?? []).ToList(),
                requests.SelectMany(r => r.Events ?? []).ToList());
        }
    }
}
