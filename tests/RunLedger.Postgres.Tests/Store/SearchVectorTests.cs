using Npgsql;
using NpgsqlTypes;

namespace RunLedger.Postgres.Tests.Store;

/// <summary>
/// The search vector built straight from the words reaches the server as the same tsvector as the
/// words' text form parsed by PostgreSQL itself, through both paths the store uses: binary COPY
/// (inserts) and a <c>::tsvector</c> cast (updates, imports).
/// </summary>
public sealed class SearchVectorTests(PostgresFixture fixture)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<string> Texts => new()
    {
        "The refund policy says: refunds within 30 days. Refund POLICY!",
        "Ünïcödé façade — naïve café, Zürich; Łódź 2026",
        "日本語のテキスト と English mixed, один два три один",
        "emoji 😀 and 𝒳 math letters 𝒳𝒴 next to words",
        "hyphenated-words e-mail@example.com /usr/local/bin v1.2.3",
        "combining: e\u0301 a\u0308 n\u0303 (decomposed accents stay inside the word)",
        string.Join(' ', Enumerable.Repeat("same", 400)) + " other",
        string.Join(' ', Enumerable.Range(0, 17_000).Select(i => "w" + (i % 50).ToString(System.Globalization.CultureInfo.InvariantCulture))),
        "short " + new string('x', 2046) + " " + new string('y', 2047) + " after",
        "ü" + new string('a', 2044) + " " + "ü" + new string('b', 2045) + " end",
        "",
        " ,.;:!? ",
    };

    [Theory]
    [MemberData(nameof(Texts))]
    public async Task ToVector_BinaryAndTextForms_AreTheTsvectorOfTheWordsWithTheirPositions(string text)
    {
        var expected = ReferenceText(text);
        var vector = SearchText.ToVector(text);
        if (expected is null)
        {
            vector.ShouldBeNull();
            return;
        }

        vector.ShouldNotBeNull();
        await using var connection = new NpgsqlConnection(fixture.Server.ConnectionString(await fixture.Server.CreateDatabaseAsync(Cancel)));
        await connection.OpenAsync(Cancel);
        await Execute(connection, "CREATE TABLE v (source text, search tsvector)");
        await using (var importer = await connection.BeginBinaryImportAsync("COPY v (source, search) FROM STDIN (FORMAT BINARY)", Cancel))
        {
            await importer.StartRowAsync(Cancel);
            await importer.WriteAsync("binary", NpgsqlDbType.Text, Cancel);
            await PostgresWriter.WriteSearchAsync(importer, vector, Cancel);
            await importer.CompleteAsync(Cancel);
        }

        await using (var insert = new NpgsqlCommand("INSERT INTO v VALUES ('text', @t::tsvector)", connection))
        {
            insert.Parameters.AddWithValue("t", vector.ToString());
            await insert.ExecuteNonQueryAsync(Cancel);
        }

        await using var select = new NpgsqlCommand("SELECT source, search = @expected::tsvector, search::text, @expected::tsvector::text FROM v ORDER BY source", connection);
        select.Parameters.AddWithValue("expected", expected);
        await using var reader = await select.ExecuteReaderAsync(Cancel);
        var rows = 0;
        while (await reader.ReadAsync(Cancel))
        {
            rows++;
            reader.GetString(2).ShouldBe(reader.GetString(3), reader.GetString(0));
            reader.GetBoolean(1).ShouldBeTrue(reader.GetString(0));
        }

        rows.ShouldBe(2);
    }

    /// <summary>The vector's specification written out plainly: every word takes the next position (capped), words too long to store are skipped, at most 255 positions a word.</summary>
    private static string? ReferenceText(string text)
    {
        var positions = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var position = 0;
        foreach (var word in SearchText.Words(text))
        {
            position = Math.Min(position + 1, 16383);
            if (System.Text.Encoding.UTF8.GetByteCount(word) > 2046)
            {
                continue;
            }

            if (!positions.TryGetValue(word, out var list))
            {
                positions[word] = list = [];
            }

            if (list.Count < 255 && (list.Count == 0 || list[^1] != position))
            {
                list.Add(position);
            }
        }

        return positions.Count == 0 ? null : string.Join(' ', positions.Select(p => "'" + p.Key + "':" + string.Join(',', p.Value)));
    }

    private static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Cancel);
    }
}
