using System.CommandLine;
using RunLedger.Core.Model;
using Spectre.Console;

namespace RunLedger.Cli.Commands;

/// <summary>
/// A <c>list</c> subcommand over a paged collection: filter words, <c>--limit</c>, <c>--all</c>,
/// pages followed by cursor, then JSON or the collection's table and a hint when more match.
/// </summary>
internal static class ListCommand
{
    /// <param name="noun">What is listed, plural and singular ("runs", "run"), for help and hints.</param>
    /// <param name="fetch">Gets one page: (context, filter, page size, cursor).</param>
    /// <param name="render">Prints the collected items as a table.</param>
    public static Command Create<T>(
        CliHost host,
        GlobalOptions globals,
        (string Plural, string Singular) noun,
        int defaultLimit,
        string description,
        Func<CommandContext, string?, int, string?, CancellationToken, Task<Page<T>>> fetch,
        Action<CommandContext, IReadOnlyList<T>> render)
    {
        var filter = CommonOptions.FilterWords();
        var limit = CommonOptions.Limit(defaultLimit, 100_000, $"How many {noun.Plural} to show, newest first");
        var all = new Option<bool>("--all") { Description = $"Follow the pages to the last matching {noun.Singular} (ignores --limit)" };
        var command = new Command("list", description) { filter, limit, all };

        CommandRunner.SetClientAction(command, host, globals, async (context, cancellationToken) =>
        {
            var query = CommonOptions.JoinFilter(context.ParseResult.GetValue(filter));
            int? max = context.ParseResult.GetValue(all) ? null : context.ParseResult.GetValue(limit);
            var collected = await Paging.CollectAsync((size, after) => fetch(context, query, size, after, cancellationToken), max).ConfigureAwait(false);

            if (context.Json)
            {
                context.WriteJson(collected);
                return ExitCodes.Ok;
            }

            render(context, collected.Items);
            if (collected.NextCursor is not null)
            {
                context.Console.WriteLine($"More {noun.Plural} match; add --all or a larger --limit to see them.");
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
