using Spectre.Console;

namespace RunLedger.Cli.Rendering;

/// <summary>Colors by meaning. With color off (redirected output) Spectre drops them and keeps the text.</summary>
internal static class Styles
{
    public static string Status(string? status)
    {
        var text = Markup.Escape(status ?? Format.None);
        return status switch
        {
            "succeeded" or "completed" => $"[green]{text}[/]",
            "failed" => $"[red]{text}[/]",
            "timeout" => $"[darkorange]{text}[/]",
            "running" or "active" => $"[blue]{text}[/]",
            "partial" => $"[yellow]{text}[/]",
            "cancelled" or "abandoned" => $"[grey]{text}[/]",
            _ => text,
        };
    }

    public static string Dim(string text) => $"[grey]{Markup.Escape(text)}[/]";

    public static string Bold(string text) => $"[bold]{Markup.Escape(text)}[/]";

    public static string Escape(string? text) => Markup.Escape(text ?? string.Empty);

    /// <summary>Error counts in red when there are any.</summary>
    public static string Errors(long errors) => errors > 0 ? $"[red]{Format.Count(errors)}[/]" : "0";
}
