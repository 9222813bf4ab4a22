using System.CommandLine;

namespace RunLedger.Cli.Commands;

/// <summary>Option and argument shapes several commands share.</summary>
internal static class CommonOptions
{
    public static Option<int> Limit(int defaultValue, int max, string description)
    {
        var option = new Option<int>("--limit", "-n")
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            HelpName = "N",
        };
        option.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<int>();
            if (value < 0 || value > max)
            {
                result.AddError($"--limit must be between 0 and {max}.");
            }
        });
        return option;
    }

    public static Argument<string[]> FilterWords() => new("filter")
    {
        Description = "A filter in the query language (docs/query.md), e.g. status:failed model:gpt-4o* started>-24h; several words are joined",
        Arity = ArgumentArity.ZeroOrMore,
    };

    /// <summary>Joins filter words back into one filter; a word the shell unquoted that holds spaces is quoted again.</summary>
    public static string? JoinFilter(IEnumerable<string>? words)
    {
        if (words is null)
        {
            return null;
        }

        var parts = words
            .Where(word => !string.IsNullOrWhiteSpace(word))
            .Select(word => word.Any(char.IsWhiteSpace) && !word.Contains('"', StringComparison.Ordinal) && !word.Contains(':', StringComparison.Ordinal) ? "\"" + word + "\"" : word)
            .ToList();
        return parts.Count == 0 ? null : string.Join(' ', parts);
    }

    /// <summary>Combines filters with AND (whitespace), leaving out empty ones.</summary>
    public static string? And(params string?[] filters)
    {
        var parts = filters.Where(f => !string.IsNullOrWhiteSpace(f)).Select(f => f!.Trim()).ToList();
        return parts.Count == 0 ? null : string.Join(' ', parts);
    }
}
