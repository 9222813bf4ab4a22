using RunLedger.Core.Query;
using RunLedger.Sqlite.Query;

namespace RunLedger.Sqlite.Tests.Query;

/// <summary>
/// The shape of the SQL the compiler makes: bound parameters, index ranges, escaping. Which rows a
/// filter selects is checked through the store by <see cref="Conformance.SqliteFilterConformance"/>.
/// </summary>
public sealed class SqliteFilterCompilerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 10, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("name:\"'); DROP TABLE runs; --\"")]
    [InlineData("name:\"x' OR '1'='1\"")]
    [InlineData("model:x';--*")]
    [InlineData("metadata.repository:\"x' OR 1=1 --\"")]
    [InlineData("\"'; DROP TABLE runs; --\"")]
    [InlineData("\"refund\\\" OR \\\"shipping\"")]
    [InlineData("\"refund OR shipping\"")]
    [InlineData("tag:\"]; DROP TABLE runs; --\"")]
    [InlineData("metadata.a-b.c_d:\"$.x\"")]
    public void CompileRuns_InjectionAttempt_StaysInParameters(string filter)
    {
        var fragment = Compile(filter, FilterTarget.Runs);

        fragment.Sql.ShouldNotContain("DROP");
        fragment.Sql.ShouldNotContain("'1'");
        fragment.Sql.ShouldNotContain("shipping");
        fragment.Parameters.ShouldNotBeEmpty();
    }

    [Fact]
    public void CompileRuns_Values_AreBoundAsTypedParameters()
    {
        var fragment = Compile("cost<0.01 duration>1.5s started>2026-11-01 id:0192f0c4-6d2a-7cc1-9a3e-000000000001 status:failed metadata.n>2.5", FilterTarget.Runs);

        var values = fragment.Parameters.Select(p => p.Value).ToList();
        fragment.Parameters.Select(p => p.Key).ShouldBe(Enumerable.Range(0, values.Count).Select(i => $"@q{i}"));
        values.ShouldContain(10_000_000L);
        values.ShouldContain(1_500_000L);
        values.ShouldContain(Micros(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero)));
        values.OfType<byte[]>().Single().ShouldBe(Guid.Parse("0192f0c4-6d2a-7cc1-9a3e-000000000001").ToByteArray(bigEndian: true));
        values.ShouldContain("failed");
        values.ShouldContain(2.5d);

        // Without a resolver the statement asks the project's metadata entries itself.
        fragment.Sql.ShouldContain("r.metadata_key IN (SELECT md.key FROM run_metadata md WHERE md.project_id = @project AND (json_extract(md.json, '$.\"n\"') > @q");
    }

    [Theory]
    [InlineData(true, "\"refund policy\"", "\"refund policy\"")]
    [InlineData(false, "\"refund policy\"", "\"refund\" \"policy\"")]
    [InlineData(true, "\"gpt-4o\"", "\"gpt 4o\"")]
    [InlineData(false, "\"gpt-4o\"", "\"gpt\" \"4o\"")]
    [InlineData(true, "refund", "\"refund\"")]
    [InlineData(false, "refund", "\"refund\"")]
    public void CompileRuns_Phrase_AsksTheIndexWhatItsLayoutCanAnswer(bool positions, string filter, string match)
    {
        var fragment = SqliteFilterCompiler.CompileRuns(FilterParser.Parse(filter, FilterTarget.Runs)!, Now, positions ? SqliteSearchIndex.PositionsLayout : SqliteSearchIndex.NoPositionsLayout);

        // With positions a phrase is one FTS5 phrase of its words (what the tokenizer makes of
        // the text, so "gpt-4o" asks for "gpt 4o"); without, the index is asked for the runs
        // holding every word (a phrase query would be an FTS5 error) and the bodies decide.
        fragment.Parameters.Select(p => p.Value).ShouldContain(match);
        var checksBodies = !positions && match.Contains(' ', StringComparison.Ordinal);
        // Checked by the bodies: (index OR tail) AND bodies; else index OR (tail AND bodies).
        fragment.Sql.StartsWith("(((r.seq IN", StringComparison.Ordinal).ShouldBe(checksBodies);
        fragment.Sql.TrimStart('(').StartsWith("r.seq IN (SELECT rowid FROM fts.runs_fts", StringComparison.Ordinal).ShouldBeTrue();
    }

    [Theory]
    [InlineData("refund", false)]
    [InlineData("\"refund policy\"", false)]
    [InlineData("\"one two three four five six seven eight nine\"", false)]
    [InlineData("\"one two three four five six seven eight nine ten eleven\"", true)]
    public void CompileRuns_SharedLines_AsksRunsAndBlocks_AndChecksLongPhrasesByTheirBodies(string filter, bool windows)
    {
        var fragment = SqliteFilterCompiler.CompileRuns(FilterParser.Parse(filter, FilterTarget.Runs)!, Now, SqliteSearchIndex.SharedTextLayout);

        // The phrase is asked of the runs' own rows and of the shared lines, whose runs are listed.
        var phrase = "\"" + filter.Trim('"') + "\"";
        var values = fragment.Parameters.Select(p => p.Value).OfType<string>().ToList();
        values.ShouldContain(phrase);
        fragment.Sql.ShouldContain("FROM fts.blocks_fts WHERE blocks_fts MATCH");
        fragment.Sql.ShouldContain("SELECT seq FROM fts.fts_run_blocks WHERE block IN");

        // A phrase longer than an edge plus one word: runs holding its first 9 and its last 9
        // words (in their rows or their blocks) are candidates for the body check.
        if (windows)
        {
            values.ShouldContain("\"one two three four five six seven eight nine\"");
            values.ShouldContain("\"three four five six seven eight nine ten eleven\"");
            fragment.Sql.ShouldContain(SqliteTailSearch.FunctionName);
        }
        else
        {
            values.Count.ShouldBe(2); // the phrase (for the index and the bodies)
        }
    }

    [Theory]
    [InlineData("\"a \uE000 b\"")]
    [InlineData("\uE000b1")]
    [InlineData("x\uE000y")]
    public void CompileRuns_SharedLines_AWordWithTheGapCharacterIsCheckedByBodiesOnly(string filter)
    {
        var fragment = SqliteFilterCompiler.CompileRuns(FilterParser.Parse(filter, FilterTarget.Runs)!, Now, SqliteSearchIndex.SharedTextLayout);

        fragment.Sql.ShouldNotContain("runs_fts");
        fragment.Sql.ShouldContain(SqliteTailSearch.FunctionName);
    }

    [Fact]
    public void CompileRuns_PrefixPattern_AddsIndexRange()
    {
        var fragment = Compile("model:gpt-4o*", FilterTarget.Runs);

        fragment.Sql.ShouldBe("(r.model >= @q0 AND r.model < @q1 AND r.model GLOB @q2)");
        fragment.Parameters.Select(p => p.Value).ShouldBe(["gpt-4o", "gpt-4p", "gpt-4o*"]);
    }

    [Fact]
    public void CompileRuns_RelativeTime_ResolvesAgainstNow()
    {
        var node = FilterParser.Parse("started>-24h", FilterTarget.Runs)!;

        var fragment = SqliteFilterCompiler.CompileRuns(node, Now);

        fragment.Parameters.Single().Value.ShouldBe(Micros(Now.AddHours(-24)));
    }

    [Fact]
    public void CompileRuns_FieldOfAnotherTarget_Throws()
    {
        var node = new FieldFilter("state", null, CompareOp.Equal, new StringValue("active", false));

        Should.Throw<ArgumentException>(() => SqliteFilterCompiler.CompileRuns(node, Now));
    }

    [Fact]
    public void CompileRuns_BadMetadataKeyInHandBuiltAst_Throws()
    {
        var node = new FieldFilter("metadata", "a\"') OR 1", CompareOp.Equal, new StringValue("x", false));

        Should.Throw<ArgumentException>(() => SqliteFilterCompiler.CompileRuns(node, Now));
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

    [Theory]
    [InlineData("status:failed model:gpt-4o", true)]
    [InlineData("model:gpt-4o* is:error", true)]
    [InlineData("name:triage (status:timeout model:gpt-4o)", true)]
    [InlineData("status:succeeded model:gpt-4o", false)]
    [InlineData("model:gpt-4o", false)]
    [InlineData("status:failed OR model:gpt-4o", false)]
    public void CompileRuns_ModelBesideARareStatus_KeepsTheModelIndexOutOfThePlan(string filter, bool unindexed)
    {
        var fragment = Compile(filter, FilterTarget.Runs);

        fragment.Sql.Contains("+r.model", StringComparison.Ordinal).ShouldBe(unindexed);
        fragment.Sql.ShouldContain("r.model");
    }

    [Fact]
    public async Task FirstPageOfStatusAndModel_WalksTheStatusIndex()
    {
        await using var f = await Store.StoreFixture.OpenAsync();
        var fragment = Compile("status:failed model:gpt-4o", FilterTarget.Runs);
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={f.DatabasePath};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"EXPLAIN QUERY PLAN SELECT r.seq FROM runs r WHERE r.project_id = 1 AND ({fragment.Sql}) ORDER BY r.started_at DESC, r.id DESC LIMIT 51;";
        foreach (var (name, value) in fragment.Parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        var plan = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(3));
            }
        }

        // In time order through the status index, not the model index; the only sort is of runs
        // that started in the same microsecond (by id), never of the whole result.
        plan[0].ShouldContain("ix_runs_status");
        // (SQLite words it "LAST TERM OF ORDER BY", older versions "RIGHT PART OF ORDER BY".)
        plan.Skip(1).ShouldAllBe(line => line == "USE TEMP B-TREE FOR LAST TERM OF ORDER BY" || line == "USE TEMP B-TREE FOR RIGHT PART OF ORDER BY");
    }

    [Theory]
    [InlineData(SqliteSearchIndex.SharedTextLayout, "\"refund policy\"")]
    [InlineData(SqliteSearchIndex.SharedTextLayout, "refund status:failed")]
    [InlineData(SqliteSearchIndex.PositionsLayout, "\"refund policy\"")]
    [InlineData(SqliteSearchIndex.NoPositionsLayout, "\"refund policy\"")]
    [InlineData(SqliteSearchIndex.NoPositionsLayout, "refund")]
    public async Task Phrase_Plan_ReadsNoTableInFull_AndChecksTheIndexLayoutOncePerStatement(int layout, string filter)
    {
        await using var f = await Store.StoreFixture.OpenAsync(options: new SqliteStoreOptions { FullTextPositions = layout != SqliteSearchIndex.NoPositionsLayout });
        var fragment = SqliteFilterCompiler.CompileRuns(FilterParser.Parse(filter, FilterTarget.Runs)!, Now, layout);
        await using var connection = await f.Store.OpenReaderAsync(default);
        await using var command = connection.CreateCommand();
        command.CommandText = $"EXPLAIN QUERY PLAN SELECT r.seq FROM {SqliteRows.RunsFrom("r")} WHERE r.project_id = 1 AND ({fragment.Sql}) ORDER BY r.started_at DESC, r.id DESC LIMIT 51;";
        foreach (var (name, value) in fragment.Parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        var plan = new Dictionary<long, (long Parent, string Detail)>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan[reader.GetInt64(0)] = (reader.GetInt64(1), reader.GetString(3));
            }
        }

        // Runs in time order through an index; the index file is asked once (a list subquery),
        // never run by run (with shared lines, its blocks too); nothing else is read in full but
        // the few rows of the index file's schema, where a search checks that the file still has
        // the layout it was compiled for (another process may have rebuilt it in another), once
        // per statement, not per run.
        var details = plan.Values.Select(p => p.Detail).ToList();
        details[0].ShouldStartWith("SEARCH r USING INDEX ix_runs_");
        details.Where(d => d.StartsWith("SCAN ", StringComparison.Ordinal))
            .ShouldAllBe(d => d.StartsWith("SCAN fts.runs_fts VIRTUAL TABLE", StringComparison.Ordinal) || d.StartsWith("SCAN fts.blocks_fts VIRTUAL TABLE", StringComparison.Ordinal) || d == "SCAN fts.sqlite_master");
        var schemaScans = plan.Values.Where(p => p.Detail == "SCAN fts.sqlite_master").ToList();
        // (The tail's mark, and the index asked: the runs' rows, and with shared lines the blocks.)
        schemaScans.Count.ShouldBe(layout == SqliteSearchIndex.SharedTextLayout ? 3 : 2);
        schemaScans.ShouldAllBe(p => plan[p.Parent].Detail.StartsWith("SCALAR SUBQUERY", StringComparison.Ordinal));
    }

    private static long Micros(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    private static SqlFragment Compile(string filter, FilterTarget target)
    {
        var node = FilterParser.Parse(filter, target) ?? throw new ArgumentException("Empty filter.", nameof(filter));
        return target switch
        {
            FilterTarget.Runs => SqliteFilterCompiler.CompileRuns(node, Now),
            FilterTarget.Events => SqliteFilterCompiler.CompileEvents(node, Now),
            _ => SqliteFilterCompiler.CompileSessions(node, Now),
        };
    }
}
