using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;

namespace RunLedger.Sqlite.Query;

/// <summary>
/// Which metadata (or tags) entries of a project (<c>run_metadata</c>, <c>run_tags</c>) a condition matches, and how
/// many runs refer to them: the filter compiler lists the keys in the SQL and picks the plan from
/// the counts (see <c>SqliteFilterCompiler</c>). Answers are kept for a few seconds per project
/// and condition while no entry is added to the file (keys are never reused, so a list stays exact
/// until one is); the counts, which only choose the plan, may be that old.
/// </summary>
internal sealed class SqliteMetadataMatches(TimeProvider time)
{
    /// <summary>
    /// A project with more entries than this (metadata that differ per run, such as a trace id) is
    /// not listed: its condition is checked on each run's entry instead.
    /// </summary>
    public const int MaxListedEntries = 10_000;

    private const int MaxCachedAnswers = 1_024;
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, (long NewestKey, DateTimeOffset At, Match Answer)> _answers = new(StringComparer.Ordinal);

    /// <summary>
    /// Keys: the matching entries (null when the project has more than <see cref="MaxListedEntries"/>);
    /// MatchingRuns: the runs that refer to them; AllRuns: the runs with metadata in the project.
    /// </summary>
    public sealed record Match(long[]? Keys, long MatchingRuns, long AllRuns);

    /// <summary>
    /// The entries of <paramref name="projectId"/> for which <paramref name="condition"/> (over
    /// <c>md.json</c>, with <paramref name="parameters"/>) is true.
    /// </summary>
    public Match Find(SqliteConnection connection, long projectId, SqliteRunValues values, string condition, IReadOnlyList<KeyValuePair<string, object?>> parameters)
    {
        long newest;
        using (var command = connection.CreateCommand())
        {
            command.CommandText = $"SELECT coalesce(max(key), 0) FROM {values.Table};";
            newest = (long)command.ExecuteScalar()!;
        }

        var cacheKey = values.Table + "\u001f" + CacheKey(projectId, condition, parameters);
        var now = time.GetUtcNow();
        if (_answers.TryGetValue(cacheKey, out var cached) && cached.NewestKey == newest && now - cached.At < MaxAge)
        {
            return cached.Answer;
        }

        var answer = Read(connection, projectId, values, condition, parameters);
        if (_answers.Count >= MaxCachedAnswers)
        {
            _answers.Clear();
        }

        _answers[cacheKey] = (newest, now, answer);
        return answer;
    }

    private static Match Read(SqliteConnection connection, long projectId, SqliteRunValues values, string condition, IReadOnlyList<KeyValuePair<string, object?>> parameters)
    {
        using var command = connection.CreateCommand();
        // Text that is not JSON (written before metadata were checked) matches no condition.
        command.CommandText =
            $"SELECT md.key, md.runs, json_valid(md.json) AND ({condition}) FROM " +
            $"(SELECT key, runs, json FROM {values.Table} WHERE project_id = @mdproject LIMIT @mdlimit) md;";
        command.Parameters.AddWithValue("@mdproject", projectId);
        command.Parameters.AddWithValue("@mdlimit", MaxListedEntries + 1);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        var keys = new List<long>();
        long entries = 0, matching = 0, all = 0;
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                entries++;
                var runs = reader.GetInt64(1);
                all += runs;
                if (!reader.IsDBNull(2) && reader.GetInt64(2) != 0)
                {
                    keys.Add(reader.GetInt64(0));
                    matching += runs;
                }
            }
        }

        return entries > MaxListedEntries ? new Match(null, 0, all) : new Match([.. keys], matching, all);
    }

    private static string CacheKey(long projectId, string condition, IReadOnlyList<KeyValuePair<string, object?>> parameters)
    {
        var key = new StringBuilder().Append(projectId.ToString(CultureInfo.InvariantCulture)).Append('\u001f').Append(condition);
        foreach (var (_, value) in parameters)
        {
            key.Append('\u001f').Append(value switch
            {
                null => "n",
                string s => "s" + s.Length.ToString(CultureInfo.InvariantCulture) + ":" + s,
                long l => "l" + l.ToString(CultureInfo.InvariantCulture),
                double d => "d" + d.ToString("R", CultureInfo.InvariantCulture),
                _ => "o" + Convert.ToString(value, CultureInfo.InvariantCulture),
            });
        }

        return key.ToString();
    }
}
