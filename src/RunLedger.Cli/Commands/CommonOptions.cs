using System.CommandLine;

namespace RunLedger.Cli.Commands;

/// <summary>Option and argument shapes several commands share.</summary>
internal static class CommonOptions
{
    /// <param name="min">The smallest --limit: 0 where "none of the past, only what follows" means something (events), else 1.</param>
    public static Option<int> Limit(int defaultValue, int max, string description, int min = 1)
    {
        var option = new Option<int>("--limit", "-n")
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            HelpName = "N",
        };
        Validate(option, value => value < min || value > max ? $"--limit must be between {min} and {max}." : null);
        return option;
    }

    /// <summary>
    /// Adds a check of the parsed value; <paramref name="check"/> returns the error or null. A value
    /// that did not even convert is left to the parser's own error.
    /// </summary>
    public static void Validate<T>(Option<T> option, Func<T?, string?> check)
    {
        ArgumentNullException.ThrowIfNull(option);
        ArgumentNullException.ThrowIfNull(check);
        option.Validators.Add(result =>
        {
            T? value;
            try
            {
                value = result.GetValueOrDefault<T>();
            }
            catch (InvalidOperationException)
            {
                return;
            }

            if (check(value) is { } error)
            {
                result.AddError(error);
            }
        });
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
