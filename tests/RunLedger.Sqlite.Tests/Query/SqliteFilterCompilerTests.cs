using RunLedger.Core.Query;
using RunLedger.Sqlite.Query;

namespace RunLedger.Sqlite.Tests.Query;

public sealed class SqliteFilterCompilerTests : IDisposable
{
    private const string All = "summarize,chat,search,plan,classify";

    private readonly FilterTestDatabase _db = new();

    public void Dispose() => _db.Dispose();

    [Theory]
    [InlineData("status:failed model:gpt-4o* cost<0.01 output_tokens>500 started>-24h metadata.repository:\"acme/web\" \"refund policy\"", "summarize")]
    [InlineData("status:failed", "summarize,search")]
    [InlineData("-status:failed", "chat,plan,classify")]
    [InlineData("status!=failed", "chat,plan,classify")]
    [InlineData("-status:succeeded", "summarize,search,plan")]
    [InlineData("kind:llm", "summarize,chat,classify")]
    [InlineData("model:gpt-4o", "plan")]
    [InlineData("model:gpt-4o*", "summarize,plan")]
    [InlineData("model:GPT*", "classify")]
    [InlineData("model:*4o*", "summarize,plan,classify")]
    [InlineData("model:*pt-4o*", "summarize,plan")]
    [InlineData("-model:gpt-4o", "summarize,chat,search,classify")]
    [InlineData("(model:gpt-4o OR model:claude*) status:failed", "")]
    [InlineData("(model:gpt-4o OR model:claude*) -status:failed", "chat,plan")]
    [InlineData("provider:openai -model:GPT-4o", "summarize,plan")]
    [InlineData("cost<0.01", "summarize,plan,classify")]
    [InlineData("-cost<0.01", "chat,search")]
    [InlineData("cost>=0.02", "chat")]
    [InlineData("cost:0.005", "summarize")]
    [InlineData("cost_usd<=0.001", "plan")]
    [InlineData("output_tokens>500", "summarize,plan,classify")]
    [InlineData("tokens>=900", "summarize,plan")]
    [InlineData("cached_tokens>0", "summarize")]
    [InlineData("reasoning_tokens>0", "")]
    [InlineData("-reasoning_tokens>0", All)]
    [InlineData("started>-24h", "summarize,search")]
    [InlineData("started>=2026-11-01", "summarize,chat,search,classify")]
    [InlineData("started<2026-11-01", "plan")]
    [InlineData("started>2026-11-01T00:00:00Z", "summarize,chat,search")]
    [InlineData("ended>-2h", "summarize,search")]
    [InlineData("duration>30s", "summarize,plan,classify")]
    [InlineData("duration<=250ms", "search")]
    [InlineData("duration>=2h", "plan")]
    [InlineData("tag:nightly", "summarize,chat")]
    [InlineData("-tag:nightly", "search,plan,classify")]
    [InlineData("tag:ev*", "summarize,classify")]
    [InlineData("tag:\"a[1]?*\"", "plan")]
    [InlineData("tag:a[1]?*", "plan")]
    [InlineData("tag:a?*", "")]
    [InlineData("tag:a[1]*", "plan")]
    [InlineData("tag:a[0-9]*", "")]
    [InlineData("metadata.repository:\"acme/web\"", "summarize,classify")]
    [InlineData("metadata.repository:acme/*", "summarize,chat,classify")]
    [InlineData("-metadata.repository:\"acme/web\"", "chat,search,plan")]
    [InlineData("metadata.attempt>2", "summarize,plan")]
    [InlineData("metadata.attempt<=3", "summarize")]
    [InlineData("metadata.attempt:\"1\"", "chat")]
    [InlineData("metadata.attempt:1", "")]
    [InlineData("metadata.attempt:10", "plan")]
    [InlineData("metadata.flag:true", "summarize")]
    [InlineData("metadata.missing:x", "")]
    [InlineData("\"refund policy\"", "summarize,search")]
    [InlineData("refund", "summarize,search")]
    [InlineData("refund policy", "summarize,search")]
    [InlineData("-\"refund policy\"", "chat,plan,classify")]
    [InlineData("REFUND", "summarize,search")]
    [InlineData("error:RateLimitError", "summarize")]
    [InlineData("error:*timed*", "search")]
    [InlineData("error:\"rate limit exceeded\"", "summarize")]
    [InlineData("-error:RateLimitError", "chat,search,plan,classify")]
    [InlineData("error_type:TimeoutError", "search")]
    [InlineData("is:root", "summarize,search,plan,classify")]
    [InlineData("-is:root", "chat")]
    [InlineData("is:error", "summarize,search,plan")]
    [InlineData("is:pinned", "chat")]
    [InlineData("pinned:true", "chat")]
    [InlineData("pinned:false", "summarize,search,plan,classify")]
    [InlineData("user:alice", "summarize")]
    [InlineData("-user:alice", "chat,search,plan,classify")]
    [InlineData("source:api", "summarize,search")]
    [InlineData("session:s1", "summarize,chat")]
    [InlineData("name:s*", "summarize,search")]
    [InlineData("parent:0192f0c4-6d2a-7cc1-9a3e-000000000001", "chat")]
    [InlineData("id:0192f0c4-6d2a-7cc1-9a3e-000000000003", "search")]
    [InlineData("NOT (status:succeeded OR status:running)", "summarize,search,plan")]
    [InlineData("--status:failed", "summarize,search")]
    [InlineData("-(status:failed -model:gpt-4o*)", "summarize,chat,plan,classify")]
    [InlineData("status:failed OR tag:eval OR duration>1h", "summarize,search,plan,classify")]
    public void CompileRuns_Filter_MatchesExactlyExpectedRows(string filter, string expected)
    {
        var names = _db.Runs(filter);

        string.Join(',', names).ShouldBe(expected);
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
    [InlineData("metadata.a-b.c_d:\"$.x\"")]
    public void CompileRuns_InjectionAttempt_IsInertData(string filter)
    {
        var fragment = FilterTestDatabase.Compile(filter, FilterTarget.Runs);

        fragment.Sql.ShouldNotContain("DROP");
        fragment.Sql.ShouldNotContain("'1'");
        fragment.Sql.ShouldNotContain("shipping");
        _db.Runs(filter).ShouldBeEmpty();
        _db.Scalar("SELECT count(*) FROM runs").ShouldBe(5);
    }

    [Fact]
    public void CompileRuns_StoredInjectionText_MatchesAsLiteralValue()
    {
        _db.Runs("metadata.repository:\"o'brien\\\"; DROP TABLE runs; --\"").ShouldBe(["plan"]);
        _db.Scalar("SELECT count(*) FROM runs").ShouldBe(5);
    }

    [Theory]
    [InlineData("type:run.*", "e1,e2")]
    [InlineData("time>-24h", "e1,e2")]
    [InlineData("run:0192f0c4-6d2a-7cc1-9a3e-000000000001", "e1,e2")]
    [InlineData("-run:0192f0c4-6d2a-7cc1-9a3e-000000000001", "e3")]
    [InlineData("-session:s1", "e3")]
    [InlineData("refund", "e1")]
    [InlineData("-refund", "e2,e3")]
    [InlineData("\"rate limit\"", "e2")]
    [InlineData("id>1", "e2,e3")]
    [InlineData("name:approval", "e3")]
    [InlineData("type:intervention_request OR type:run.failed", "e2,e3")]
    [InlineData("\"'); DROP TABLE events; --\"", "")]
    public void CompileEvents_Filter_MatchesExactlyExpectedRows(string filter, string expected)
    {
        string.Join(',', _db.Events(filter)).ShouldBe(expected);
    }

    [Theory]
    [InlineData("state:active", "s2")]
    [InlineData("-state:active", "s1")]
    [InlineData("ended<-12h", "s1")]
    [InlineData("-ended<-12h", "s2")]
    [InlineData("cost>1.5", "s1")]
    [InlineData("cost:2.5", "s1")]
    [InlineData("runs>100", "s1")]
    [InlineData("failed>0", "s1")]
    [InlineData("metadata.persona:buyer", "s1")]
    [InlineData("nightly", "s1")]
    [InlineData("playground", "s2")]
    [InlineData("name:Play*", "s2")]
    [InlineData("started>-7d", "s1,s2")]
    [InlineData("id:s2", "s2")]
    public void CompileSessions_Filter_MatchesExactlyExpectedRows(string filter, string expected)
    {
        string.Join(',', _db.Sessions(filter)).ShouldBe(expected);
    }

    [Fact]
    public void CompileRuns_Values_AreBoundAsTypedParameters()
    {
        var fragment = FilterTestDatabase.Compile("cost<0.01 duration>1.5s started>2026-11-01 id:0192f0c4-6d2a-7cc1-9a3e-000000000001 status:failed metadata.n>2.5", FilterTarget.Runs);

        var values = fragment.Parameters.Select(p => p.Value).ToList();
        fragment.Parameters.Select(p => p.Key).ShouldBe(Enumerable.Range(0, values.Count).Select(i => $"@q{i}"));
        values.ShouldContain(10_000_000L);
        values.ShouldContain(1_500_000L);
        values.ShouldContain(FilterTestDatabase.Micros(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero)));
        values.OfType<byte[]>().Single().ShouldBe(FilterTestDatabase.Summarize.ToByteArray(bigEndian: true));
        values.ShouldContain("failed");
        values.ShouldContain("$.\"n\"");
        values.ShouldContain(2.5d);
    }

    [Fact]
    public void CompileRuns_PrefixPattern_AddsIndexRange()
    {
        var fragment = FilterTestDatabase.Compile("model:gpt-4o*", FilterTarget.Runs);

        fragment.Sql.ShouldBe("(r.model >= @q0 AND r.model < @q1 AND r.model GLOB @q2)");
        fragment.Parameters.Select(p => p.Value).ShouldBe(["gpt-4o", "gpt-4p", "gpt-4o*"]);
    }

    [Fact]
    public void CompileRuns_RelativeTime_ResolvesAgainstNow()
    {
        var node = FilterParser.Parse("started>-24h", FilterTarget.Runs)!;

        var fragment = SqliteFilterCompiler.CompileRuns(node, FilterTestDatabase.Now);

        fragment.Parameters.Single().Value.ShouldBe(FilterTestDatabase.Micros(FilterTestDatabase.Now.AddHours(-24)));
    }

    [Fact]
    public void CompileRuns_FieldOfAnotherTarget_Throws()
    {
        var node = new FieldFilter("state", null, CompareOp.Equal, new StringValue("active", false));

        Should.Throw<ArgumentException>(() => SqliteFilterCompiler.CompileRuns(node, FilterTestDatabase.Now));
    }

    [Fact]
    public void CompileRuns_BadMetadataKeyInHandBuiltAst_Throws()
    {
        var node = new FieldFilter("metadata", "a\"') OR 1", CompareOp.Equal, new StringValue("x", false));

        Should.Throw<ArgumentException>(() => SqliteFilterCompiler.CompileRuns(node, FilterTestDatabase.Now));
    }

    [Theory]
    [InlineData("a*b", "a*b")]
    [InlineData("a?[x]*", "a[?][[]x[]]*")]
    public void ToGlob_Metacharacters_AreEscaped(string pattern, string glob)
    {
        SqliteFilterCompiler.ToGlob(pattern).ShouldBe(glob);
    }

    [Fact]
    public void ToFtsPhrase_InnerQuotes_AreDoubled()
    {
        SqliteFilterCompiler.ToFtsPhrase("say \"hi\"").ShouldBe("\"say \"\"hi\"\"\"");
    }
}
