using Microsoft.Data.Sqlite;
using RunLedger.Core.Payloads;
using RunLedger.Sqlite.Query;

namespace RunLedger.Sqlite.Tests.Query;

/// <summary>
/// The tail matcher must agree with <c>runs_fts</c>: a run not yet indexed is found by exactly the
/// phrases that find it once it is indexed. Checked against a real FTS5 table with the same tokenizer.
/// </summary>
public sealed class SqliteTailSearchTests
{
    private static readonly string[] Pool =
    [
        "refund", "Refund", "REFUNDS", "policy", "crème", "Brûlée", "ÉCOLE", "e\u0301cole", "naïve", "Straße", "São", "Paulo",
        "Ελληνικά", "ελληνικα", "日本語", "テスト", "x42", "2026", "gpt-4o", "don't", "Ça", "va", "ﬁle", "Ünïcödé", "ñandú", "Øre", "æble",
        "\U00010400\U00010401", "\U00010428\U00010429", "x\U0001F600y", "\U0001D538bc", "\U00020000\U00020001",
    ];

    private static readonly string[] Separators = [" ", ", ", "-", ".", "\n", "'", "  ", "/", "_", "\t"];

    [Fact]
    public void Matches_AgreesWithFts5_OnSeededRandomTextsAndPhrases()
    {
        var random = new Random(7);
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        Execute(connection, "CREATE VIRTUAL TABLE t USING fts5(body, content='', tokenize='unicode61 remove_diacritics 2');");
        var docs = new List<string>();
        for (var i = 0; i < 200; i++)
        {
            var words = Enumerable.Range(0, random.Next(1, 12)).Select(_ => Pool[random.Next(Pool.Length)] + Separators[random.Next(Separators.Length)]);
            var doc = string.Concat(words);
            docs.Add(doc);
            using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO t (rowid, body) VALUES ($id, $body);";
            insert.Parameters.AddWithValue("$id", i + 1);
            insert.Parameters.AddWithValue("$body", PayloadText.RunSearchText(null, null, doc, 64 * 1024));
            insert.ExecuteNonQuery();
        }

        var checkedPhrases = 0;
        for (var q = 0; q < 150; q++)
        {
            var phrase = string.Join(Separators[random.Next(Separators.Length)], Enumerable.Range(0, random.Next(1, 3)).Select(_ => Pool[random.Next(Pool.Length)]));
            var expected = new HashSet<long>();
            using (var select = connection.CreateCommand())
            {
                select.CommandText = "SELECT rowid FROM t WHERE t MATCH $q;";
                select.Parameters.AddWithValue("$q", SqliteFilterCompiler.ToFtsPhrase(phrase));
                using var reader = select.ExecuteReader();
                while (reader.Read())
                {
                    expected.Add(reader.GetInt64(0));
                }
            }

            var actual = docs.Select((doc, i) => (doc, id: (long)i + 1)).Where(d => SqliteTailSearch.Matches(phrase, null, null, d.doc, 64 * 1024)).Select(d => d.id).ToHashSet();
            actual.ShouldBe(expected, ignoreOrder: true, customMessage: "phrase: " + phrase);
            checkedPhrases += expected.Count > 0 ? 1 : 0;
        }

        checkedPhrases.ShouldBeGreaterThan(50);
    }

    [Theory]
    [InlineData("refund policy", "Our REFUND Policy.", true)]
    [InlineData("policy refund", "Our refund policy", false)]
    [InlineData("refund", "refunds", false)]
    [InlineData("creme brulee", "Crème brûlée", true)]
    [InlineData("ecole", "e\u0301cole", true)]
    [InlineData("", "anything", false)]
    [InlineData("\U00010428", "\U00010400", true)]
    [InlineData("a b", "a \u0301 b", true)]
    public void Matches_WholeWordsInOrder_CaseAndLatinDiacriticsIgnored(string phrase, string text, bool matches) =>
        SqliteTailSearch.Matches(phrase, null, null, text, 1000).ShouldBe(matches);

    [Theory]
    [InlineData("refund policy", "refund|policy")]
    [InlineData("gpt-4o", "gpt|4o")]
    [InlineData("System.TimeoutException", "System|TimeoutException")]
    [InlineData("  Crème  brûlée! ", "Crème|brûlée")]
    [InlineData("e\u0301cole \u0301 x", "e\u0301cole|x")]
    [InlineData("...", "")]
    public void WrittenWords_SplitLikeTheTokenizer_KeepTheTextAsWritten(string text, string expected) =>
        string.Join('|', SqliteTailSearch.WrittenWords(text)).ShouldBe(expected);

    [Fact]
    public void WrittenWords_EachIsOneTokenOfTheIndex()
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        Execute(connection, "CREATE VIRTUAL TABLE t USING fts5(body, detail=none, tokenize='unicode61 remove_diacritics 2'); INSERT INTO t (rowid, body) VALUES (1, 'x');");
        var random = new Random(11);
        for (var q = 0; q < 200; q++)
        {
            var text = string.Join(Separators[random.Next(Separators.Length)], Enumerable.Range(0, random.Next(1, 4)).Select(_ => Pool[random.Next(Pool.Length)]));
            using var select = connection.CreateCommand();
            select.CommandText = "SELECT count(*) FROM t WHERE t MATCH $q;";
            select.Parameters.AddWithValue("$q", SqliteFilterCompiler.ToFtsWords(SqliteTailSearch.WrittenWords(text)));

            // Without positions FTS5 refuses a quoted string of more than one token: no word may be split further.
            Should.NotThrow(() => select.ExecuteScalar(), text);
        }
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
