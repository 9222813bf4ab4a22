using Spectre.Console;

namespace RunLedger.Cli;

/// <summary>Makes the Spectre console the commands draw on.</summary>
internal static class ConsoleFactory
{
    /// <summary>
    /// A console over <paramref name="writer"/>. Without <paramref name="color"/> it writes no
    /// ANSI codes at all, so redirected output and tests see plain text.
    /// </summary>
    public static IAnsiConsole Create(TextWriter writer, bool interactive, bool color, int? width)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = color ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = color ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Yes : InteractionSupport.No,
        });

        if (width is { } columns)
        {
            console.Profile.Width = columns;
        }

        return console;
    }
}
