using RunLedger.Core.Query;
using static RunLedger.Core.Tests.Query.FilterAst;

namespace RunLedger.Core.Tests.Query;

/// <summary>Every example in docs/query.md parses to the intended AST.</summary>
public sealed class FilterParserExampleTests
{
    private static readonly Dictionary<string, (FilterTarget Target, FilterNode Expected)> Examples = new(StringComparer.Ordinal)
    {
        ["status:failed model:gpt-4o* cost<0.01 output_tokens>500 started>-24h metadata.repository:\"acme/web\" \"refund policy\""] = (FilterTarget.Runs, And(
            Eq("status", "failed"),
            Like("model", "gpt-4o*"),
            Num("cost", CompareOp.Less, 0.01m),
            Num("output_tokens", CompareOp.Greater, 500),
            F("started", CompareOp.Greater, new RelativeTimeValue(TimeSpan.FromHours(-24))),
            Meta("repository", S("acme/web")),
            T("refund policy"))),
        ["duration>30s"] = (FilterTarget.Runs, F("duration", CompareOp.Greater, new DurationValue(TimeSpan.FromSeconds(30)))),
        ["started>=2026-11-01"] = (FilterTarget.Runs, F("started", CompareOp.GreaterOrEqual, new TimeValue(Utc(2026, 11, 1)))),
        ["tag:nightly"] = (FilterTarget.Runs, Eq("tag", "nightly")),
        ["-status:succeeded"] = (FilterTarget.Runs, Not(Eq("status", "succeeded"))),
        ["(model:gpt-4o OR model:claude*) status:failed"] = (FilterTarget.Runs, And(Or(Eq("model", "gpt-4o"), Like("model", "claude*")), Eq("status", "failed"))),

        // Fields, aliases and operators.
        ["status=failed"] = (FilterTarget.Runs, Eq("status", "failed")),
        ["status!=running"] = (FilterTarget.Runs, F("status", CompareOp.NotEqual, S("running"))),
        ["kind:llm"] = (FilterTarget.Runs, Eq("kind", "llm")),
        ["name:summarize*"] = (FilterTarget.Runs, Like("name", "summarize*")),
        ["provider:openai"] = (FilterTarget.Runs, Eq("provider", "openai")),
        ["user:alice"] = (FilterTarget.Runs, Eq("user", "alice")),
        ["source:otlp"] = (FilterTarget.Runs, Eq("source", "otlp")),
        ["session:nightly-2026-11-01"] = (FilterTarget.Runs, Eq("session", "nightly-2026-11-01")),
        ["id:0192f0c4-6d2a-7cc1-9a3e-55b1f2a0c001"] = (FilterTarget.Runs, Eq("id", "0192f0c4-6d2a-7cc1-9a3e-55b1f2a0c001")),
        ["parent:0192F0C46D2A7CC19A3E55B1F2A0C001"] = (FilterTarget.Runs, Eq("parent", "0192f0c4-6d2a-7cc1-9a3e-55b1f2a0c001")),
        ["cost_usd<=0.5"] = (FilterTarget.Runs, Num("cost", CompareOp.LessOrEqual, 0.5m)),
        ["tokens>=10000"] = (FilterTarget.Runs, Num("total_tokens", CompareOp.GreaterOrEqual, 10000)),
        ["input_tokens>1000"] = (FilterTarget.Runs, Num("input_tokens", CompareOp.Greater, 1000)),
        ["cached_tokens>0"] = (FilterTarget.Runs, Num("cached_tokens", CompareOp.Greater, 0)),
        ["reasoning_tokens>0"] = (FilterTarget.Runs, Num("reasoning_tokens", CompareOp.Greater, 0)),
        ["duration<250ms"] = (FilterTarget.Runs, F("duration", CompareOp.Less, new DurationValue(TimeSpan.FromMilliseconds(250)))),
        ["duration>=1.5m"] = (FilterTarget.Runs, F("duration", CompareOp.GreaterOrEqual, new DurationValue(TimeSpan.FromSeconds(90)))),
        ["duration>2h"] = (FilterTarget.Runs, F("duration", CompareOp.Greater, new DurationValue(TimeSpan.FromHours(2)))),
        ["duration<1d"] = (FilterTarget.Runs, F("duration", CompareOp.Less, new DurationValue(TimeSpan.FromDays(1)))),
        ["started>-7d"] = (FilterTarget.Runs, F("started", CompareOp.Greater, new RelativeTimeValue(TimeSpan.FromDays(-7)))),
        ["started>-30m"] = (FilterTarget.Runs, F("started", CompareOp.Greater, new RelativeTimeValue(TimeSpan.FromMinutes(-30)))),
        ["started_at<2026-11-01T08:00"] = (FilterTarget.Runs, F("started", CompareOp.Less, new TimeValue(Utc(2026, 11, 1, 8)))),
        ["ended<2026-11-01T08:00:00Z"] = (FilterTarget.Runs, F("ended", CompareOp.Less, new TimeValue(Utc(2026, 11, 1, 8)))),
        ["started>2026-11-01T10:00:00+02:00"] = (FilterTarget.Runs, F("started", CompareOp.Greater, new TimeValue(Utc(2026, 11, 1, 8)))),
        ["error:*timeout*"] = (FilterTarget.Runs, Like("error", "*timeout*")),
        ["error_type:RateLimitError"] = (FilterTarget.Runs, Eq("error_type", "RateLimitError")),
        ["pinned:true"] = (FilterTarget.Runs, Eq("pinned", "true")),
        ["is:root"] = (FilterTarget.Runs, Eq("is", "root")),
        ["metadata.attempt>2"] = (FilterTarget.Runs, Meta("attempt", new NumberValue(2), CompareOp.Greater)),
        ["metadata.repository:acme/*"] = (FilterTarget.Runs, Meta("repository", new StringValue("acme/*", true))),
        ["metadata.ticket:\"1234\""] = (FilterTarget.Runs, Meta("ticket", S("1234"))),
        ["tag:nightly -tag:flaky"] = (FilterTarget.Runs, And(Eq("tag", "nightly"), Not(Eq("tag", "flaky")))),
        ["status:failed OR status:timeout"] = (FilterTarget.Runs, Or(Eq("status", "failed"), Eq("status", "timeout"))),
        ["status:failed AND model:gpt-4o"] = (FilterTarget.Runs, And(Eq("status", "failed"), Eq("model", "gpt-4o"))),
        ["NOT (status:succeeded OR status:running)"] = (FilterTarget.Runs, Not(Or(Eq("status", "succeeded"), Eq("status", "running")))),
        ["kind:tool -(status:succeeded cost<0.001)"] = (FilterTarget.Runs, And(Eq("kind", "tool"), Not(And(Eq("status", "succeeded"), Num("cost", CompareOp.Less, 0.001m))))),
        ["refund policy"] = (FilterTarget.Runs, And(T("refund"), T("policy"))),
        ["\"refund policy\""] = (FilterTarget.Runs, T("refund policy")),
        ["name:\"weekly \\\"digest\\\"\""] = (FilterTarget.Runs, Eq("name", "weekly \"digest\"")),
        ["-model:gpt-4o"] = (FilterTarget.Runs, Not(Eq("model", "gpt-4o"))),

        // Events.
        ["type:run.* time>-1h"] = (FilterTarget.Events, And(Like("type", "run.*"), F("time", CompareOp.Greater, new RelativeTimeValue(TimeSpan.FromHours(-1))))),
        ["type:intervention_request session:nightly-2026-11-01"] = (FilterTarget.Events, And(Eq("type", "intervention_request"), Eq("session", "nightly-2026-11-01"))),
        ["run:0192f0c4-6d2a-7cc1-9a3e-55b1f2a0c001"] = (FilterTarget.Events, Eq("run", "0192f0c4-6d2a-7cc1-9a3e-55b1f2a0c001")),
        ["id>1000"] = (FilterTarget.Events, Num("id", CompareOp.Greater, 1000)),
        ["name:approval \"customer refund\""] = (FilterTarget.Events, And(Eq("name", "approval"), T("customer refund"))),

        // Sessions.
        ["state:active started>-7d"] = (FilterTarget.Sessions, And(Eq("state", "active"), F("started", CompareOp.Greater, new RelativeTimeValue(TimeSpan.FromDays(-7))))),
        ["failed>0 cost>1.5"] = (FilterTarget.Sessions, And(Num("failed", CompareOp.Greater, 0), Num("cost", CompareOp.Greater, 1.5m))),
        ["run_count>100"] = (FilterTarget.Sessions, Num("runs", CompareOp.Greater, 100)),
        ["metadata.persona:buyer"] = (FilterTarget.Sessions, Meta("persona", S("buyer"))),
        ["name:nightly* ended<-1d"] = (FilterTarget.Sessions, And(Like("name", "nightly*"), F("ended", CompareOp.Less, new RelativeTimeValue(TimeSpan.FromDays(-1))))),
        ["nightly"] = (FilterTarget.Sessions, T("nightly")),
    };

    public static TheoryData<string> ExampleTexts => new(Examples.Keys);

    [Theory]
    [MemberData(nameof(ExampleTexts))]
    public void Parse_DocumentedExample_GivesIntendedAst(string text)
    {
        var (target, expected) = Examples[text];

        var parsed = FilterParser.Parse(text, target);

        Dump(parsed).ShouldBe(Dump(expected));
    }

    [Theory]
    [MemberData(nameof(ExampleTexts))]
    public void Print_DocumentedExample_RoundTrips(string text)
    {
        var (target, expected) = Examples[text];

        var printed = FilterPrinter.Print(FilterParser.Parse(text, target)!);

        Dump(FilterParser.Parse(printed, target)).ShouldBe(Dump(expected));
    }

    [Fact]
    public void Docs_EveryFencedExample_IsInTheTable()
    {
        var docs = FindDocs();
        docs.ShouldNotBeNull("docs/query.md was not found above the test assembly");

        // Worked examples are the table rows that start with a back-quoted filter.
        var documented = File.ReadAllLines(docs)
            .Where(l => l.StartsWith("| `", StringComparison.Ordinal))
            .Select(l => l[3..l.IndexOf("` |", 3, StringComparison.Ordinal)].Replace("\\|", "|", StringComparison.Ordinal))
            .ToList();

        documented.ShouldNotBeEmpty();
        foreach (var example in documented)
        {
            Examples.ShouldContainKey(example);
        }
    }

    private static string? FindDocs()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "docs", "query.md");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
