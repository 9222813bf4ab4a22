using RunLedger.Core.Query;
using RunLedger.Core.Storage;

namespace RunLedger.Conformance;

/// <summary>
/// Every feature of the filter language (docs/query.md) as a store-level query over
/// <see cref="FilterDataset"/>, asserting the exact set of runs, events or sessions returned:
/// every field and alias, every operator, wildcards, durations, relative and absolute times,
/// metadata keys, free text, AND/OR/NOT and parentheses, missing values under negation, and
/// values that look like SQL.
/// </summary>
public abstract class FilterConformance : StoreConformance
{
    private const string All = FilterDataset.AllRuns;

    /// <summary>
    /// Whether a free-text word also matches words it is a prefix of (<c>refun</c> finding
    /// "refund"). The documented behaviour is whole words only; a store whose text search cannot
    /// avoid prefix matching says so here. Checked by <see cref="TextSearch_PrefixMatching"/>.
    /// </summary>
    protected virtual bool TextSearchMatchesPrefixes => false;

    /// <summary>
    /// Whether free text is matched after stemming (<c>refunds</c> finding "refund"), as a
    /// language-aware full-text engine does. Checked by <see cref="TextSearch_Stemming"/>.
    /// </summary>
    protected virtual bool TextSearchStemsWords => false;

    [Theory]
    [InlineData("status:failed model:gpt-4o* cost<0.01 output_tokens>500 started>-24h metadata.repository:\"acme/web\" \"refund policy\"", "summarize")]
    [InlineData("status:failed", "summarize,search")]
    [InlineData("STATUS:FAILED", "summarize,search")]
    [InlineData("-status:failed", "chat,plan,classify")]
    [InlineData("status!=failed", "chat,plan,classify")]
    [InlineData("status=timeout", "plan")]
    [InlineData("-status:succeeded", "summarize,search,plan")]
    [InlineData("kind:llm", "summarize,chat,classify")]
    [InlineData("kind:LLM", "summarize,chat,classify")]
    [InlineData("kind!=llm", "search,plan")]
    [InlineData("kind:agent OR kind:tool", "search,plan")]
    [InlineData("model:gpt-4o", "plan")]
    [InlineData("model=gpt-4o", "plan")]
    [InlineData("model:gpt-4o*", "summarize,plan")]
    [InlineData("model:GPT*", "classify")]
    [InlineData("model:*4o*", "summarize,plan,classify")]
    [InlineData("model:*pt-4o*", "summarize,plan")]
    [InlineData("model:*mini", "summarize")]
    [InlineData("model:gpt*mini", "summarize")]
    [InlineData("model:\"gpt-4o*\"", "")]
    [InlineData("-model:gpt-4o", "summarize,chat,search,classify")]
    [InlineData("-model:gpt-4o model:*", "summarize,chat,classify")]
    [InlineData("(model:gpt-4o OR model:claude*) status:failed", "")]
    [InlineData("(model:gpt-4o OR model:claude*) -status:failed", "chat,plan")]
    [InlineData("provider:openai -model:GPT-4o", "summarize,plan")]
    [InlineData("provider:anthropic", "chat")]
    [InlineData("cost<0.01", "summarize,plan,classify")]
    [InlineData("-cost<0.01", "chat,search")]
    [InlineData("cost>=0.02", "chat")]
    [InlineData("cost>0.009", "chat")]
    [InlineData("cost:0.005", "summarize")]
    [InlineData("cost!=0.005", "chat,search,plan,classify")]
    [InlineData("cost_usd<=0.001", "plan")]
    [InlineData("cost>-1", "summarize,chat,plan,classify")]
    [InlineData("output_tokens>500", "summarize,plan,classify")]
    [InlineData("completion_tokens>=501", "summarize,plan,classify")]
    [InlineData("input_tokens<200", "chat,classify")]
    [InlineData("prompt_tokens:300", "plan")]
    [InlineData("total_tokens:400", "chat")]
    [InlineData("tokens>=900", "summarize,plan")]
    [InlineData("cached_tokens>0", "summarize")]
    [InlineData("reasoning_tokens>0", "chat")]
    [InlineData("-reasoning_tokens>0", "summarize,search,plan,classify")]
    [InlineData("started>-24h", "summarize,search")]
    [InlineData("started>-2d", "summarize,chat,search")]
    [InlineData("start<-7d", "plan,classify")]
    [InlineData("started_at>-30m", "")]
    [InlineData("started<+1h", All)]
    [InlineData("started>=2026-11-01", "summarize,chat,search,classify")]
    [InlineData("started<2026-11-01", "plan")]
    [InlineData("started>2026-11-01T00:00:00Z", "summarize,chat,search")]
    [InlineData("started>2026-11-01T01:00:00+02:00", "summarize,chat,search,classify")]
    [InlineData("started>=2026-11-01T01:00:00+02:00", All)]
    [InlineData("started<2026-11-01T00:00:00.001", "plan,classify")]
    [InlineData("started<=2026-10-31T23:00", "plan")]
    [InlineData("ended>-2h", "summarize,search")]
    [InlineData("end<2026-11-01T00:00:31", "")]
    [InlineData("ended_at<=2026-11-01T00:00:31", "classify")]
    [InlineData("duration>30s", "summarize,plan,classify")]
    [InlineData("duration<=250ms", "search")]
    [InlineData("duration<250ms", "")]
    [InlineData("duration>=2h", "plan")]
    [InlineData("duration>1.5m", "plan")]
    [InlineData("latency:5s", "chat")]
    [InlineData("duration!=5s", "summarize,search,plan,classify")]
    [InlineData("duration<1d", All)]
    [InlineData("duration>=1w", "")]
    [InlineData("tag:nightly", "summarize,chat")]
    [InlineData("tags:eval", "summarize,classify")]
    [InlineData("-tag:nightly", "search,plan,classify")]
    [InlineData("tag!=eval", "chat,search,plan")]
    [InlineData("tag:nightly -tag:eval", "chat")]
    [InlineData("tag:ev*", "summarize,classify")]
    [InlineData("tag:*ly", "summarize,chat")]
    [InlineData("tag:\"a[1]?*\"", "plan")]
    [InlineData("tag:a[1]?*", "plan")]
    [InlineData("tag:a?*", "")]
    [InlineData("tag:a[1]*", "plan")]
    [InlineData("tag:a[0-9]*", "")]
    [InlineData("tag:NIGHTLY", "")]
    [InlineData("metadata.repository:\"acme/web\"", "summarize,classify")]
    [InlineData("meta.repository:acme/web", "summarize,classify")]
    [InlineData("metadata.repository:acme/*", "summarize,chat,classify")]
    [InlineData("md.repository:*api", "chat")]
    [InlineData("-metadata.repository:\"acme/web\"", "chat,search,plan")]
    [InlineData("metadata.repository!=acme/web", "chat,search,plan")]
    [InlineData("metadata.attempt>2", "summarize,plan")]
    [InlineData("metadata.attempt<=3", "summarize")]
    [InlineData("metadata.attempt>=3 metadata.attempt<10", "summarize")]
    [InlineData("metadata.attempt:\"1\"", "chat")]
    [InlineData("metadata.attempt>0", "summarize,plan")]
    [InlineData("metadata.attempt:1", "")]
    [InlineData("metadata.attempt:10", "plan")]
    [InlineData("metadata.attempt!=3", "chat,search,plan,classify")]
    [InlineData("metadata.attempt:3", "summarize")]
    [InlineData("metadata.attempt:3.0", "summarize")]
    [InlineData("metadata.attempt:1*", "chat")]
    [InlineData("metadata.attempt!=10", "summarize,chat,search,classify")]
    [InlineData("metadata.a.b:dotted", "classify")]
    [InlineData("metadata.a.b:nested", "")]
    [InlineData("metadata.a:*", "")]
    [InlineData("metadata.a:\"{\\\"b\\\":\\\"nested\\\"}\"", "")]
    [InlineData("metadata.x-y_z:2", "classify")]
    [InlineData("metadata.x-y_z:\"2\"", "")]
    [InlineData("metadata.x-y_z>=2", "classify")]
    [InlineData("metadata.gone:null", "plan")]
    [InlineData("metadata.missing:null", "")]
    [InlineData("-metadata.gone:null", "summarize,chat,search,classify")]
    [InlineData("metadata.flag:true", "summarize")]
    [InlineData("metadata.flag:false", "")]
    [InlineData("metadata.missing:x", "")]
    [InlineData("-metadata.missing:x", All)]
    [InlineData("metadata.repository:ACME/WEB", "")]
    [InlineData("\"refund policy\"", "summarize,search")]
    [InlineData("refund", "summarize,search")]
    [InlineData("refund policy", "summarize,search")]
    [InlineData("refund AND policy", "summarize,search")]
    [InlineData("\"policy refund\"", "")]
    [InlineData("-\"refund policy\"", "chat,plan,classify")]
    [InlineData("REFUND", "summarize,search")]
    [InlineData("canada", "chat")]
    [InlineData("negative", "classify")]
    [InlineData("cafe zoe", "classify")]
    [InlineData("CAFÉ", "classify")]
    [InlineData("\"rate limit\"", "summarize")]
    [InlineData("\"customer refund\"", "")]
    [InlineData("\"asked policy\"", "")]
    [InlineData("\"our refund policy\"", "summarize")]
    [InlineData("\"about refund policy\"", "")]
    [InlineData("\"policy lookup\"", "search")]
    [InlineData("\"tool timed\"", "search")]
    [InlineData("\"30s tool\"", "")]
    [InlineData("\"zoe was closed\"", "classify")]
    [InlineData("\"refund-policy\"", "summarize,search")]
    [InlineData("\"policy-refund\"", "")]
    [InlineData("\"limit.exceeded\"", "summarize")]
    [InlineData("\"refund policy\" -\"policy lookup\"", "summarize")]
    [InlineData("\"refund policy\" status:failed -name:search", "summarize")]
    [InlineData("-\"customer refund\"", All)]
    [InlineData("\"refund policy\" OR \"weekly digest\"", "summarize,search,plan")]
    [InlineData("\"-\"", "")]
    [InlineData("-\"-\"", All)]
    [InlineData("timed", "search")]
    [InlineData("refund OR digest", "summarize,search,plan")]
    [InlineData("error:RateLimitError", "summarize")]
    [InlineData("error:*timed*", "search")]
    [InlineData("error:\"rate limit exceeded\"", "summarize")]
    [InlineData("error:rate*", "summarize")]
    [InlineData("-error:RateLimitError", "chat,search,plan,classify")]
    [InlineData("error_type:TimeoutError", "search")]
    [InlineData("error_type:*Error", "summarize,search")]
    [InlineData("is:root", "summarize,search,plan,classify")]
    [InlineData("-is:root", "chat")]
    [InlineData("is:error", "summarize,search,plan")]
    [InlineData("is:ERROR", "summarize,search,plan")]
    [InlineData("is:pinned", "")]
    [InlineData("pinned:true", "")]
    [InlineData("pinned:false", All)]
    [InlineData("pinned!=true", All)]
    [InlineData("user:alice", "summarize")]
    [InlineData("user_id:bob", "chat")]
    [InlineData("-user:alice", "chat,search,plan,classify")]
    [InlineData("source:api", "summarize,search")]
    [InlineData("source:sdk", "chat,classify")]
    [InlineData("source:otlp", "plan")]
    [InlineData("session:s1", "summarize,chat")]
    [InlineData("session_id:s*", "summarize,chat")]
    [InlineData("-session:s1", "search,plan,classify")]
    [InlineData("name:s*", "summarize,search")]
    [InlineData("name:chat", "chat")]
    [InlineData("name:Chat", "")]
    [InlineData("parent:0192f0c4-6d2a-7cc1-9a3e-000000000001", "chat")]
    [InlineData("parent_id:0192F0C46D2A7CC19A3E000000000001", "chat")]
    [InlineData("-parent:0192f0c4-6d2a-7cc1-9a3e-000000000001", "summarize,search,plan,classify")]
    [InlineData("id:0192f0c4-6d2a-7cc1-9a3e-000000000003", "search")]
    [InlineData("run_id:0192f0c4-6d2a-7cc1-9a3e-000000000003", "search")]
    [InlineData("id!=0192f0c4-6d2a-7cc1-9a3e-000000000003", "summarize,chat,plan,classify")]
    [InlineData("NOT (status:succeeded OR status:running)", "summarize,search,plan")]
    [InlineData("NOT status:failed", "chat,plan,classify")]
    [InlineData("--status:failed", "summarize,search")]
    [InlineData("-(status:failed -model:gpt-4o*)", "summarize,chat,plan,classify")]
    [InlineData("status:failed OR tag:eval OR duration>1h", "summarize,search,plan,classify")]
    [InlineData("kind:llm status:succeeded OR kind:tool", "chat,search,classify")]
    [InlineData("kind:llm (status:succeeded OR kind:tool)", "chat,classify")]
    [InlineData("((kind:llm) AND (cost<0.01 OR tag:nightly)) -name:chat", "summarize,classify")]
    [InlineData("kind:tool -(status:succeeded cost<0.001)", "search")]
    public async Task Runs_Filter_ReturnsExactlyTheExpectedRuns(string filter, string expected)
    {
        var (store, data) = await SeedAsync();

        var runs = await AllRunsAsync(store, data.Runs, FilterParser.Parse(filter, FilterTarget.Runs), pageSize: 2);

        FilterDataset.RunList(runs.Select(r => r.Id)).ShouldBe(expected);
        runs.Select(r => r.Id).Distinct().Count().ShouldBe(runs.Count);
    }

    [Theory]
    [InlineData("name:\"'); DROP TABLE runs; --\"")]
    [InlineData("name:\"x' OR '1'='1\"")]
    [InlineData("model:x';--*")]
    [InlineData("metadata.repository:\"x' OR 1=1 --\"")]
    [InlineData("\"'; DROP TABLE runs; --\"")]
    [InlineData("\"refund\\\" OR \\\"shipping\"")]
    [InlineData("\"refund OR shipping\"")]
    [InlineData("\"NEAR(refund policy)\"")]
    [InlineData("\"body:refund\"")]
    [InlineData("\"*\"")]
    [InlineData("tag:\"]; DROP TABLE runs; --\"")]
    [InlineData("user:\"\\\\\"")]
    [InlineData("user:%")]
    [InlineData("name:_ummarize")]
    [InlineData("metadata.a-b.c_d:\"$.x\"")]
    public async Task Runs_ValueThatLooksLikeSqlOrSearchSyntax_IsInertData(string filter)
    {
        var (store, data) = await SeedAsync();

        var runs = await AllRunsAsync(store, data.Runs, FilterParser.Parse(filter, FilterTarget.Runs));

        runs.ShouldBeEmpty();
        (await AllRunsAsync(store, data.Runs)).Count.ShouldBe(5);
    }

    [Fact]
    public async Task Runs_StoredTextThatLooksLikeSql_MatchesAsALiteralValue()
    {
        var (store, data) = await SeedAsync();

        var runs = await AllRunsAsync(store, data.Runs, FilterParser.Parse("metadata.repository:\"o'brien\\\"; DROP TABLE runs; --\"", FilterTarget.Runs));

        FilterDataset.RunList(runs.Select(r => r.Id)).ShouldBe("plan");
        (await AllRunsAsync(store, data.Runs)).Count.ShouldBe(5);
    }

    [Fact]
    public async Task Runs_RelativeTime_ResolvesAgainstTheStoreClock()
    {
        var (store, data) = await SeedAsync();
        var filter = FilterParser.Parse("started>-90m", FilterTarget.Runs);
        FilterDataset.RunList((await AllRunsAsync(store, data.Runs, filter)).Select(r => r.Id)).ShouldBe("search");

        Clock.Advance(TimeSpan.FromHours(1));

        (await AllRunsAsync(store, data.Runs, filter)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Runs_CanonicalText_SelectsTheSameRuns()
    {
        var (store, data) = await SeedAsync();
        foreach (var text in new[] { "started>=2026-11-01T01:00:00+02:00 duration>1.5m", "-(status:failed -model:gpt-4o*) OR tag:\"a[1]?*\"", "latency>=90s meta.attempt>2" })
        {
            var node = FilterParser.Parse(text, FilterTarget.Runs)!;
            var canonical = FilterParser.Parse(FilterPrinter.Print(node), FilterTarget.Runs);
            var direct = await AllRunsAsync(store, data.Runs, node);
            var printed = await AllRunsAsync(store, data.Runs, canonical);
            printed.Select(r => r.Id).ShouldBe(direct.Select(r => r.Id), text);
        }
    }

    [Fact]
    public async Task TextSearch_FollowsUpdatedBodiesAndErrors()
    {
        var (store, project) = await OpenWithProjectAsync();
        var id = NewId();
        await WriteAsync(store, project, [new Core.Ingest.RunWrite { Id = id, StartedAt = Now, Input = Core.Model.RawJson.FromString("alpha question"), Output = Core.Model.RawJson.FromString("gamma answer") }]);
        await WriteAsync(store, project, [new Core.Ingest.RunWrite { Id = id, Input = Core.Model.RawJson.FromString("beta question") }]);

        async Task<int> Count(string text) => (await AllRunsAsync(store, project, FilterParser.Parse(text, FilterTarget.Runs))).Count;

        (await Count("alpha")).ShouldBe(0, "the replaced input is no longer searched");
        (await Count("beta")).ShouldBe(1);
        (await Count("gamma")).ShouldBe(1, "the output that was not sent again is still searched");

        await WriteAsync(store, project, [new Core.Ingest.RunWrite { Id = id, Error = new Core.Model.RunError { Message = "delta failure" } }]);
        (await Count("delta")).ShouldBe(1);
        (await Count("beta gamma delta")).ShouldBe(1);
        (await Count("alpha")).ShouldBe(0);
    }

    [Fact]
    public async Task TextSearch_PrefixMatching()
    {
        var (store, data) = await SeedAsync();

        var expected = TextSearchMatchesPrefixes ? "summarize,search" : "";
        foreach (var text in new[] { "refun", "\"refun*\"", "REFUN" })
        {
            var runs = await AllRunsAsync(store, data.Runs, FilterParser.Parse(text, FilterTarget.Runs));
            FilterDataset.RunList(runs.Select(r => r.Id)).ShouldBe(expected, text);
        }
    }

    [Fact]
    public async Task TextSearch_Stemming()
    {
        var (store, data) = await SeedAsync();

        var runs = await AllRunsAsync(store, data.Runs, FilterParser.Parse("refunds", FilterTarget.Runs));

        FilterDataset.RunList(runs.Select(r => r.Id)).ShouldBe(TextSearchStemsWords ? "summarize,search" : "");
    }

    [Theory]
    [InlineData("type:run.*", "e1,e2")]
    [InlineData("type:run.failed", "e2")]
    [InlineData("-type:run.*", "e3")]
    [InlineData("time>-24h", "e1,e2")]
    [InlineData("at>-90m", "e2")]
    [InlineData("time<2026-11-09T12:00", "e3")]
    [InlineData("run:0192f0c4-6d2a-7cc1-9a3e-000000000001", "e1,e2")]
    [InlineData("run_id:0192f0c4-6d2a-7cc1-9a3e-000000000001", "e1,e2")]
    [InlineData("-run:0192f0c4-6d2a-7cc1-9a3e-000000000001", "e3")]
    [InlineData("session:s1", "e1,e2")]
    [InlineData("-session:s1", "e3")]
    [InlineData("session_id:s*", "e1,e2")]
    [InlineData("refund", "e1")]
    [InlineData("REFUND", "e1")]
    [InlineData("-refund", "e2,e3")]
    [InlineData("\"rate limit\"", "e2")]
    [InlineData("name:approval", "e3")]
    [InlineData("name:app*", "e3")]
    [InlineData("-name:approval", "e1,e2")]
    [InlineData("type:intervention_request OR type:run.failed", "e2,e3")]
    [InlineData("(type:run.started OR type:run.failed) time>-90m", "e2")]
    [InlineData("\"'); DROP TABLE events; --\"", "")]
    [InlineData("name:\"%\"", "")]
    [InlineData("\"%\"", "")]
    [InlineData("\"_efund\"", "")]
    public async Task Events_Filter_ReturnsExactlyTheExpectedEvents(string filter, string expected)
    {
        var (store, data) = await SeedAsync();

        var events = await store.Reader.ReadEventsAsync(data.Events, 0, FilterParser.Parse(filter, FilterTarget.Events), 100, Ct);

        string.Join(',', events.Select(e => e.IdempotencyKey)).ShouldBe(expected);
    }

    [Fact]
    public async Task Events_IdFilter_ComparesTheMonotonicId()
    {
        var (store, data) = await SeedAsync();
        var all = await store.Reader.ReadEventsAsync(data.Events, 0, null, 100, Ct);
        var ids = all.ToDictionary(e => e.IdempotencyKey!, e => e.Id);

        async Task<string> Keys(string filter) =>
            string.Join(',', (await store.Reader.ReadEventsAsync(data.Events, 0, FilterParser.Parse(filter, FilterTarget.Events), 100, Ct)).Select(e => e.IdempotencyKey));

        (await Keys(FormattableString.Invariant($"id>{ids["e1"]}"))).ShouldBe("e2,e3");
        (await Keys(FormattableString.Invariant($"id>={ids["e2"]}"))).ShouldBe("e2,e3");
        (await Keys(FormattableString.Invariant($"id:{ids["e2"]}"))).ShouldBe("e2");
        (await Keys(FormattableString.Invariant($"id!={ids["e2"]}"))).ShouldBe("e1,e3");
        (await Keys(FormattableString.Invariant($"id<{ids["e3"]} id>{ids["e1"]}"))).ShouldBe("e2");
    }

    [Theory]
    [InlineData("state:active", "s2")]
    [InlineData("state:COMPLETED", "s1")]
    [InlineData("-state:active", "s1")]
    [InlineData("state!=completed", "s2")]
    [InlineData("ended<-12h", "s1")]
    [InlineData("-ended<-12h", "s2")]
    [InlineData("ended_at>=2026-11-09", "s1")]
    [InlineData("cost>1.5", "s1")]
    [InlineData("cost:2.5", "s1")]
    [InlineData("cost_usd<1", "s2")]
    [InlineData("runs>2", "s1")]
    [InlineData("run_count:1", "s2")]
    [InlineData("failed>0", "s1")]
    [InlineData("failed_count:2", "s1")]
    [InlineData("input_tokens>500", "s1")]
    [InlineData("output_tokens<100", "s2")]
    [InlineData("metadata.persona:buyer", "s1")]
    [InlineData("md.persona:b*", "s1")]
    [InlineData("-metadata.persona:buyer", "s2")]
    [InlineData("nightly", "s1")]
    [InlineData("NIGHTLY", "s1")]
    [InlineData("playground", "s2")]
    [InlineData("\"nightly batch\"", "s1")]
    [InlineData("name:Play*", "s2")]
    [InlineData("name:play*", "")]
    [InlineData("started>-7d", "s1,s2")]
    [InlineData("started>-2h", "s2")]
    [InlineData("start<-1d", "s1")]
    [InlineData("id:s2", "s2")]
    [InlineData("session:s*", "s1,s2")]
    [InlineData("state:active OR failed>1", "s1,s2")]
    [InlineData("NOT (state:active OR failed>1)", "")]
    [InlineData("name:\"'; DROP TABLE sessions; --\"", "")]
    [InlineData("\"%\"", "")]
    [InlineData("_ightly", "")]
    [InlineData("name:_ightly*", "")]
    public async Task Sessions_Filter_ReturnsExactlyTheExpectedSessions(string filter, string expected)
    {
        var (store, data) = await SeedAsync();

        var page = await store.Reader.QuerySessionsAsync(data.Sessions, new SessionQuery(FilterParser.Parse(filter, FilterTarget.Sessions), 100, null), Ct);

        string.Join(',', page.Items.Select(s => s.Id).Order(StringComparer.Ordinal)).ShouldBe(expected);
    }

    private async Task<(ILedgerStore Store, FilterDataset.Projects Data)> SeedAsync()
    {
        var store = await OpenStoreAsync();
        var data = await FilterDataset.SeedAsync(store, Ct);
        return (store, data);
    }
}
