namespace RunLedger.Sqlite;

/// <summary>
/// One of the JSON values of runs kept once per distinct value of a project (see
/// <see cref="SqliteRunMetadata"/>): metadata (schema 13), parameters and tags (schema 14). Each
/// has its table (key, project, hash, runs, json), the column of <c>runs</c> that holds the key, and
/// the suffix of the alias its text is joined under.
/// </summary>
internal sealed class SqliteRunValues
{
    public static readonly SqliteRunValues Metadata = new(0, "run_metadata", "metadata_key", "md");

    public static readonly SqliteRunValues Parameters = new(1, "run_parameters", "parameters_key", "pa");

    public static readonly SqliteRunValues Tags = new(2, "run_tags", "tags_key", "tg");

    public static readonly IReadOnlyList<SqliteRunValues> All = [Metadata, Parameters, Tags];

    private SqliteRunValues(int index, string table, string column, string suffix)
    {
        Index = index;
        Table = table;
        Column = column;
        Suffix = suffix;
    }

    /// <summary>The position in <see cref="All"/>.</summary>
    public int Index { get; }

    public string Table { get; }

    /// <summary>The column of <c>runs</c> holding the key.</summary>
    public string Column { get; }

    public string Suffix { get; }

    /// <summary>The join that gives a row of runs aliased <paramref name="r"/> this value's text as <see cref="JsonOf"/>.</summary>
    public string Join(string r) => $"LEFT JOIN {Table} {r}_{Suffix} ON {r}_{Suffix}.key = {r}.{Column}";

    /// <summary>The text of a row of runs aliased <paramref name="r"/> joined with <see cref="Join"/>.</summary>
    public string JsonOf(string r) => $"{r}_{Suffix}.json";
}
