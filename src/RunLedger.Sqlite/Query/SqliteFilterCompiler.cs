using System.Text;
using RunLedger.Core.Query;

namespace RunLedger.Sqlite.Query;

/// <summary>
/// Compiles a filter AST to a parameterized SQLite WHERE fragment over <c>runs r</c>,
/// <c>events e</c> or <c>sessions s</c> (the walk and the checks are shared in
/// <see cref="FilterSqlBuilder"/>; this is the SQLite spelling).
/// <para>
/// Negations compile to <c>(expr) IS NOT 1</c>, which is true for false and for NULL:
/// <c>-model:x</c> also returns runs without a model.
/// </para>
/// <para>
/// Wildcards compile to case-sensitive GLOB with <c>[</c>, <c>]</c> and <c>?</c> escaped as
/// bracket sets; a pattern that is a prefix followed by one trailing <c>*</c> also gets a
/// <c>col &gt;= prefix AND col &lt; next</c> range so an index on the column can be used.
/// Free text on runs is a phrase of whole words, found through the FTS5 index (see
/// <c>RunText</c>); on events and sessions a case-insensitive substring.
/// </para>
/// <para>
/// Runs and events refer to their session by key (<c>session_keys</c>): a session term looks the
/// id up among the keys of the project the caller binds as <c>@project</c> (every reader does, for
/// its <c>project_id = @project</c>).
/// </para>
/// </summary>
internal static class SqliteFilterCompiler
{
    /// <summary>
    /// Compiles a run filter. <paramref name="fullTextLayout"/> is the layout of the full-text
    /// index the readers attach (<see cref="SqliteSearchIndex.Layout"/>): a phrase of several words
    /// is an FTS5 phrase query only when the index keeps word positions, and with shared lines
    /// (<see cref="SqliteSearchIndex.SharedTextLayout"/>) the blocks are asked too. A statement
    /// checks that the file still has that layout and reads bodies when it does not.
    /// <para>
    /// <paramref name="metadata"/> finds the metadata entries a condition matches (see
    /// <see cref="MetadataTerm"/>); without it a metadata term reads the project's entries in the
    /// statement itself.
    /// </para>
    /// </summary>
    public static SqlFragment CompileRuns(FilterNode node, DateTimeOffset now, int fullTextLayout = SqliteSearchIndex.SharedTextLayout, MetadataResolver? metadata = null) =>
        Compile(node, FilterTarget.Runs, now, fullTextLayout, metadata);

    /// <summary>The entries of the caller's project in the table of <paramref name="values"/> for which a condition over <c>md.json</c> (with its parameters) is true.</summary>
    public delegate SqliteMetadataMatches.Match MetadataResolver(SqliteRunValues values, string condition, IReadOnlyList<KeyValuePair<string, object?>> parameters);

    /// <summary>
    /// Compiles a run filter whose free text asks the full-text index only about some runs
    /// (<see cref="SearchScope"/>): the runs from <c>@fts_from</c> on (the caller binds it and
    /// adds <c>r.seq &gt;= @fts_from</c> itself), or the row at hand alone. For every run the
    /// scope covers the result is that of <see cref="CompileRuns(FilterNode, DateTimeOffset, int, MetadataResolver?)"/>.
    /// </summary>
    public static SqlFragment CompileRuns(FilterNode node, DateTimeOffset now, int fullTextLayout, MetadataResolver? metadata, SearchScope scope) =>
        new Builder(FilterTarget.Runs, now, ModelTermsBesideRareStatus(node), fullTextLayout, metadata, scope).Build(node);

    /// <summary>True when <paramref name="node"/> holds free text, which a run filter answers through the full-text index.</summary>
    public static bool HasText(FilterNode node) => node switch
    {
        TextFilter => true,
        AndFilter and => and.Terms.Any(HasText),
        OrFilter or => or.Terms.Any(HasText),
        NotFilter not => HasText(not.Term),
        _ => false,
    };

    public static SqlFragment CompileEvents(FilterNode node, DateTimeOffset now) => Compile(node, FilterTarget.Events, now);

    public static SqlFragment CompileSessions(FilterNode node, DateTimeOffset now) => Compile(node, FilterTarget.Sessions, now);

    public static SqlFragment Compile(FilterNode node, FilterTarget target, DateTimeOffset now, int fullTextLayout = SqliteSearchIndex.SharedTextLayout, MetadataResolver? metadata = null) =>
        new Builder(target, now, target == FilterTarget.Runs ? ModelTermsBesideRareStatus(node) : null, fullTextLayout, metadata, SearchScope.AllRuns).Build(node);

    /// <summary>
    /// Whether runs referring to <paramref name="matchingRuns"/> of <paramref name="allRuns"/> are
    /// better found through <c>ix_runs_metadata</c> (then sorted by time) than by walking the time
    /// index and checking each run's key. A page of 50 walks about 50 * all / matching runs; the
    /// index reads and sorts every matching one. They cost about the same at
    /// matching = 8 * sqrt(all) (8,000 of 1M runs, 2,500 of 100k): below that the index.
    /// Measured at 1M runs: a value on 20 runs takes under 1 ms through the index and a scan of
    /// every run without it; one on 188k runs 1 ms walking the time index and 7 ms (31 ms with
    /// status:failed beside it) through the metadata index.
    /// </summary>
    internal static bool FewEnoughForIndex(long matchingRuns, long allRuns) =>
        (double)matchingRuns * matchingRuns <= 64d * allRuns;

    /// <summary>
    /// The values of <c>model</c> terms that stand in one AND with a status other than
    /// <c>succeeded</c> (or <c>is:error</c>): those compile to <c>+r.model</c>, which keeps the
    /// planner off <c>ix_runs_model</c>, so it walks the status index in time order and checks
    /// the model on each row.
    /// <para>
    /// Without statistics SQLite rates an equality on <c>ix_runs_status</c> and on
    /// <c>ix_runs_model</c> alike and takes the model index; <c>ANALYZE</c> does not help, because
    /// the bundled SQLite keeps only averages (no <c>STAT4</c>): a ledger has a few statuses and
    /// more models, so a status looks the less selective one. But failures, timeouts and
    /// cancellations are the exception in a run ledger (3 % of the benchmark's runs) while a
    /// model is typically on a large share of them: for <c>status:failed model:gpt-4o</c> at
    /// 100,000 runs the first page reads about 660 rows through the status index and about 2,300
    /// through the model index. Other indexed terms (session, name, parent, id) are left to the
    /// planner.
    /// </para>
    /// </summary>
    internal static HashSet<StringValue>? ModelTermsBesideRareStatus(FilterNode node)
    {
        HashSet<StringValue>? values = null;
        Visit(node);
        return values;

        void Visit(FilterNode current)
        {
            switch (current)
            {
                case AndFilter and:
                    if (and.Terms.Any(IsRareStatus))
                    {
                        foreach (var term in and.Terms)
                        {
                            if (term is FieldFilter { Op: CompareOp.Equal, Value: StringValue value } field
                                && string.Equals(field.Field, "model", StringComparison.OrdinalIgnoreCase))
                            {
                                (values ??= new HashSet<StringValue>(ReferenceEqualityComparer.Instance)).Add(value);
                            }
                        }
                    }

                    foreach (var term in and.Terms)
                    {
                        Visit(term);
                    }

                    break;
                case OrFilter or:
                    foreach (var term in or.Terms)
                    {
                        Visit(term);
                    }

                    break;
                case NotFilter not:
                    Visit(not.Term);
                    break;
            }
        }

        static bool IsRareStatus(FilterNode term) => term is FieldFilter { Op: CompareOp.Equal, Value: StringValue { IsPattern: false } value } field
            && ((string.Equals(field.Field, "status", StringComparison.OrdinalIgnoreCase) && !string.Equals(value.Text, "succeeded", StringComparison.Ordinal))
                || (string.Equals(field.Field, "is", StringComparison.OrdinalIgnoreCase) && string.Equals(value.Text, "error", StringComparison.Ordinal)));
    }

    /// <summary>Escapes GLOB metacharacters other than '*', which stays a wildcard.</summary>
    internal static string ToGlob(string pattern)
    {
        var builder = new StringBuilder(pattern.Length + 8);
        foreach (var c in pattern)
        {
            _ = c switch
            {
                '[' => builder.Append("[[]"),
                ']' => builder.Append("[]]"),
                '?' => builder.Append("[?]"),
                _ => builder.Append(c),
            };
        }

        return builder.ToString();
    }

    /// <summary>Wraps free text as one FTS5 phrase: inner double quotes doubled, so no FTS5 syntax applies.</summary>
    internal static string ToFtsPhrase(string text) => "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>
    /// An FTS5 query for the rows holding every one of <paramref name="words"/> (implicit AND of
    /// one-word phrases, each quoted, so no FTS5 syntax applies): an index without word positions
    /// cannot answer a phrase of more than one word.
    /// </summary>
    internal static string ToFtsWords(IReadOnlyList<string> words) => string.Join(' ', words.Select(ToFtsPhrase));

    private sealed class Builder(FilterTarget target, DateTimeOffset now, HashSet<StringValue>? unindexedModels, int fullTextLayout, MetadataResolver? metadata, SearchScope scope) : FilterSqlBuilder(target, now)
    {
        protected override string True => "1";

        protected override string False => "0";

        protected override string Not(string sql) => $"({sql}) IS NOT 1";

        protected override string Text(string text) => Target switch
        {
            FilterTarget.Runs => RunText(text),
            FilterTarget.Events => $"instr(lower({SqliteEventData.Of("e")}), lower({Add(text)})) > 0",
            _ => $"instr(lower(s.name), lower({Add(text)})) > 0",
        };

        /// <summary>
        /// Free text on runs: its words (as the index's tokenizer makes them) in a row. The index (a
        /// file of its own, attached as fts) answers for the runs it covers, unless their text
        /// changed since (fts_pending) or it is not this ledger's index, or it has another layout
        /// than this search was compiled for (then its mark counts as 0 and FTS5 is not asked).
        /// Runs above its mark and changed runs are matched by their bodies with the same word rules
        /// (see <see cref="SqliteSearchIndex"/>).
        /// <para>
        /// With word positions (the default layout) the index answers the whole phrase. Without
        /// them (<c>detail=none</c>) it knows which runs hold a word, not where: one word it
        /// answers alone; for more, it gives the runs holding all of them and each of those is
        /// checked for the words in a row by its bodies, like the tail. The check is a correlated
        /// expression, which SQLite codes after a row's plain conditions, and it is the last operand
        /// of its AND, so only runs the index and every other condition let through are read.
        /// </para>
        /// <para>Text without a word matches nothing (as the phrase "" does in FTS5).</para>
        /// </summary>
        private string RunText(string text)
        {
            var words = SqliteTailSearch.WrittenWords(text);
            if (words.Count == 0)
            {
                return False;
            }

            // Both the index and the body check get the words alone, joined by spaces (the
            // tokenizer makes exactly these words of them again): a NUL would end FTS5's query
            // string and the text SQLite hands to a function.
            var phrase = string.Join(' ', words);
            var bodies = $"{SqliteTailSearch.FunctionName}({Add(phrase)}, " +
                "(SELECT encoding FROM payloads WHERE id = r.input_payload), (SELECT data FROM payloads WHERE id = r.input_payload), " +
                "(SELECT encoding FROM payloads WHERE id = r.output_payload), (SELECT data FROM payloads WHERE id = r.output_payload), r.error_message)";
            var tail = $"(r.seq > {SqliteSearchIndex.MarkSql(fullTextLayout)} OR r.seq IN (SELECT seq FROM fts_pending))";
            if (fullTextLayout == SqliteSearchIndex.SharedTextLayout)
            {
                return SharedText(words, phrase, bodies, tail);
            }

            var byIndex = fullTextLayout != SqliteSearchIndex.NoPositionsLayout || words.Count == 1;
            var indexed = Indexed(Add(byIndex ? ToFtsPhrase(phrase) : ToFtsWords(words)));
            return byIndex
                ? $"({indexed} OR ({tail} AND {bodies}))"
                : $"(({indexed} OR {tail}) AND {bodies})";
        }

        /// <summary>
        /// Runs the index covers (and has not been told changed) whose row matches the FTS5 query
        /// <paramref name="query"/>, and with shared lines the runs listed with a block that matches
        /// it: one list (not two IN terms joined by OR, which made a search that finds few runs look
        /// every run of the time index up twice), each part read in proportion to what it finds.
        /// FTS5 is handed the query only when the index is trusted
        /// (<see cref="SqliteSearchIndex.ValidSql"/>), else the empty phrase, which matches nothing:
        /// the file may have been rebuilt in another layout by a process configured so, and a query
        /// it cannot answer (a phrase without positions) is an FTS5 error even when a false
        /// condition stands beside it in the WHERE; its mark then counts as 0, so the tail is every run.
        /// </summary>
        private string Indexed(string query)
        {
            var match = $"CASE WHEN {SqliteSearchIndex.ValidSql(fullTextLayout)} THEN {query} ELSE '\"\"' END";
            var (rows, listed) = scope switch
            {
                SearchScope.FromSeq => (" AND rowid >= @fts_from", " AND seq >= @fts_from"),
                SearchScope.ThisRun => (" AND rowid = r.seq", " AND seq = r.seq"),
                _ => ("", ""),
            };
            var blocks = fullTextLayout == SqliteSearchIndex.SharedTextLayout
                ? $" UNION ALL SELECT seq FROM fts.fts_run_blocks WHERE block IN (SELECT rowid FROM fts.blocks_fts WHERE blocks_fts MATCH {match}){listed}"
                : "";
            return $"(r.seq IN (SELECT rowid FROM fts.runs_fts WHERE runs_fts MATCH {match}{rows}{blocks}) AND r.seq NOT IN (SELECT seq FROM fts_pending))";
        }

        /// <summary>
        /// Free text on an index with shared lines (see <see cref="SqliteSharedText"/>): a run's row
        /// holds its text with each shared line cut to its edges, and <c>fts_run_blocks</c> lists
        /// the shared lines (blocks) it holds. A phrase matches a run whose row holds it or that
        /// holds a block that does. A phrase longer than an edge plus one word may also cross an
        /// edge into a block's middle; then its first and its last words of that length are each in
        /// the run's row or in a block it holds (the first block whose middle it enters either
        /// starts after the phrase's start, so those words are the block's head and what stands
        /// before it, in the row, or holds them), so such runs are checked against their bodies.
        /// A phrase holding the gap character never reaches the index: a search for it reads
        /// every run's bodies.
        /// </summary>
        private string SharedText(List<string> words, string phrase, string bodies, string tail)
        {
            if (phrase.Contains(SqliteSharedText.Gap, StringComparison.Ordinal))
            {
                return bodies;
            }

            var exact = Indexed(Add(ToFtsPhrase(phrase)));
            var window = SqliteSharedText.EdgeWords + 1;
            if (words.Count <= window)
            {
                return $"({exact} OR ({tail} AND {bodies}))";
            }

            var first = Indexed(Add(ToFtsPhrase(string.Join(' ', words.Take(window)))));
            var last = Indexed(Add(ToFtsPhrase(string.Join(' ', words.TakeLast(window)))));
            return $"({exact} OR ((({first} AND {last}) OR {tail}) AND {bodies}))";
        }

        /// <summary>
        /// A tag: one of the JSON array's strings. Runs refer to their tags by key (one entry per
        /// distinct array of a project, see <see cref="ValueTerm"/>); tags have no index of their own.
        /// </summary>
        protected override string Tag(StringValue value)
        {
            var (cmp, text) = value.IsPattern ? ("GLOB", ToGlob(value.Text)) : ("=", value.Text);
            return Target == FilterTarget.Runs
                ? ValueTerm(SqliteRunValues.Tags, (json, add) => $"EXISTS (SELECT 1 FROM json_each({json}) WHERE value {cmp} {add(text)})", indexed: false)
                : $"EXISTS (SELECT 1 FROM json_each({Table}.tags) WHERE value {cmp} {Add(text)})";
        }

        protected override string StringCompare(string column, StringValue value)
        {
            if (column is "r.session_id" or "e.session_id")
            {
                return SessionCompare(column[0], value);
            }

            if (column == "e.type" && SqliteRunEvents.MayNameRunEvents(value.Text, value.IsPattern))
            {
                // A packed run event keeps its type in its data (SqliteRunEvents), its type column
                // is ''. A value no run event type matches compares the column alone, which a
                // packed row never equals: a client type (type:user_feedback) is found as fast as
                // before packing.
                column = SqliteRunEvents.TypeOf("e");
            }

            if (unindexedModels is not null && unindexedModels.Contains(value) && column == "r.model")
            {
                // A unary plus leaves the value alone and the column's index out of the plan.
                column = "+r.model";
            }

            if (!value.IsPattern)
            {
                return $"{column} = {Add(value.Text)}";
            }

            // A prefix pattern ("gpt-4o*") also gets a range the column's index can use; the
            // GLOB keeps the match exact. UTF-8 byte order equals code point order, so bumping
            // the last (non-surrogate) character gives the first string past the prefix.
            var star = value.Text.IndexOf('*', StringComparison.Ordinal);
            var range = string.Empty;
            if (star > 0 && star == value.Text.Length - 1 && value.Text[star - 1] < '\uD7FF')
            {
                var prefix = value.Text[..star];
                var upper = prefix[..^1] + (char)(prefix[^1] + 1);
                range = $"{column} >= {Add(prefix)} AND {column} < {Add(upper)} AND ";
            }

            var glob = $"{column} GLOB {Add(ToGlob(value.Text))}";
            return range.Length == 0 ? glob : $"({range}{glob})";
        }

        /// <summary>
        /// A session id compared through its key: the ids of the caller's project (<c>@project</c>)
        /// that match are looked up in <c>session_keys</c> once, before any run or event is read, and
        /// the rows are found by key (through the session index). An id nothing has named has no key
        /// and matches nothing.
        /// </summary>
        private string SessionCompare(char table, StringValue value)
        {
            var key = $"{table}.session_key";
            return value.IsPattern
                ? $"{key} IN (SELECT sk.key FROM session_keys sk WHERE sk.project_id = @project AND {StringCompare("sk.id", value)})"
                : $"{key} = (SELECT sk.key FROM session_keys sk WHERE sk.project_id = @project AND sk.id = {Add(value.Text)})";
        }

        protected override object IdParameter(Guid id) => id.ToByteArray(bigEndian: true);

        protected override string BooleanEquals(string column, bool flag) => $"{column} = {(flag ? "1" : "0")}";

        /// <summary>A long when exact (integer columns compare exactly), else a double.</summary>
        protected override object NumberParameter(decimal value, decimal scale)
        {
            try
            {
                var scaled = value * scale;
                if (scaled == decimal.Truncate(scaled) && scaled >= long.MinValue && scaled <= long.MaxValue)
                {
                    return (long)scaled;
                }

                return (double)scaled;
            }
            catch (OverflowException)
            {
                return (double)value * (double)scale;
            }
        }

        protected override string MetadataNumber(string key, CompareOp op, decimal number)
        {
            var value = NumberParameter(number, 1m);
            return MetadataTerm(key, (json, path, extract, add) => $"({extract} {Operator(op)} {add(value)} AND json_type({json}, {path}) IN ('integer', 'real'))");
        }

        protected override string MetadataPattern(string key, string pattern)
        {
            var glob = ToGlob(pattern);
            return MetadataTerm(key, (json, path, extract, add) => $"({extract} GLOB {add(glob)} AND json_type({json}, {path}) = 'text')");
        }

        protected override string MetadataLiteral(string key, string literal) =>
            MetadataTerm(key, (json, path, extract, add) =>
            {
                var p = add(literal);
                return $"(json_type({json}, {path}) = {p} OR {extract} = {p})";
            });

        protected override string MetadataString(string key, string text) =>
            MetadataTerm(key, (json, path, extract, add) => $"({extract} = {add(text)} AND json_type({json}, {path}) = 'text')");

        /// <summary>
        /// A metadata term. <paramref name="condition"/> is given the JSON text, the path of
        /// <paramref name="key"/> (a literal: keys are letters, digits, '_', '.' and '-', checked
        /// before this is called), its extraction and a way to add a parameter. Conditions compare
        /// the value first and check its JSON type second: the comparison rejects most rows, so only
        /// matches pay for the type check.
        /// <para>
        /// Sessions hold their metadata text. A run refers to its metadata by key
        /// (<c>run_metadata</c>, one entry per distinct object of a project), so the condition is
        /// asked of the project's entries, not of each run: with a resolver (every reader passes
        /// one) once before the statement, and the term is the list of matching keys, with the
        /// counts choosing the plan (<see cref="FewEnoughForIndex"/>): few matching runs are found
        /// through <c>ix_runs_metadata</c>; for many, a unary plus keeps that index out of the plan,
        /// so SQLite walks runs in time order and checks each one's key (an integer compare) until
        /// the page is full. A project with more entries than can be listed (metadata that differ
        /// per run) has the condition checked on each run's entry as it is walked. Without a
        /// resolver the statement reads the entries itself.
        /// </para>
        /// </summary>
        private string MetadataTerm(string key, Func<string, string, string, Func<object?, string>, string> condition)
        {
            var path = SqliteMetadataIndexes.PathLiteral(key);
            if (Target != FilterTarget.Runs)
            {
                var json = $"{Table}.metadata";
                return condition(json, path, SqliteMetadataIndexes.Extraction(json, key), Add);
            }

            return ValueTerm(SqliteRunValues.Metadata, (json, add) => condition(json, path, SqliteMetadataIndexes.Extraction(json, key), add), indexed: true);
        }

        /// <summary>
        /// A term on a value runs refer to by key (metadata, tags): <paramref name="condition"/> over
        /// an entry's text <c>md.json</c> is asked of the project's entries, as described at
        /// <see cref="MetadataTerm"/>. Without an index on the key (<paramref name="indexed"/> false)
        /// the list of keys is checked on each run as it is walked.
        /// </summary>
        private string ValueTerm(SqliteRunValues values, Func<string, Func<object?, string>, string> condition, bool indexed)
        {
            const string entryJson = "md.json";
            var column = $"r.{values.Column}";
            if (metadata is null)
            {
                return $"{column} IN (SELECT md.key FROM {values.Table} md WHERE md.project_id = @project AND {condition(entryJson, Add)})";
            }

            var local = new List<KeyValuePair<string, object?>>();
            string AddLocal(object? value)
            {
                var name = "@md" + local.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
                local.Add(new(name, value));
                return name;
            }

            var match = metadata(values, condition(entryJson, AddLocal), local);
            if (match.Keys is null)
            {
                return $"(SELECT {condition(entryJson, Add)} FROM {values.Table} md WHERE md.key = +{column})";
            }

            if (match.Keys.Length == 0)
            {
                return False;
            }

            if (!indexed || !FewEnoughForIndex(match.MatchingRuns, match.AllRuns))
            {
                column = "+" + column;
            }

            return match.Keys.Length == 1
                ? $"{column} = {match.Keys[0].ToString(System.Globalization.CultureInfo.InvariantCulture)}"
                : $"{column} IN ({string.Join(", ", match.Keys.Select(k => k.ToString(System.Globalization.CultureInfo.InvariantCulture)))})";
        }
    }
}

/// <summary>Which runs a compiled run filter asks the full-text index about.</summary>
internal enum SearchScope
{
    /// <summary>Every run: each free-text term reads the whole list of runs that hold it.</summary>
    AllRuns,

    /// <summary>Runs from the sequence number bound as <c>@fts_from</c> on: FTS5 seeks to it in each list.</summary>
    FromSeq,

    /// <summary>The run of the row at hand (<c>r.seq</c>): one seek per list, for a check of few rows.</summary>
    ThisRun,
}
