using RunLedger.Cli.Rendering;
using RunLedger.Core.Storage.Transfer;
using Spectre.Console;

namespace RunLedger.Cli.Transfer;

/// <summary>Prints the result of <c>--verify</c>: counts side by side, then either "identical" or the first differences.</summary>
internal static class VerifyRenderer
{
    public static void Write(IAnsiConsole console, VerifyReport report, long sourceRuns)
    {
        var table = new Table().Border(TableBorder.Simple).AddColumn("kind").AddColumn(new TableColumn("source").RightAligned()).AddColumn(new TableColumn("target").RightAligned());
        foreach (var count in report.Counts)
        {
            var differ = count.Source != count.Target;
            table.AddRow(
                Markup.Escape(count.Kind),
                Format.Count(count.Source),
                differ ? $"[red]{Format.Count(count.Target)}[/]" : Format.Count(count.Target));
        }

        console.Write(table);
        if (report.Identical)
        {
            console.MarkupLine($"[green]Verified:[/] every run identical ({Format.Count(report.RunsIdentical)} of {Format.Count(sourceRuns)}: bodies, usage, cost, metadata, tree and events), and every other record too.");
            return;
        }

        console.MarkupLine($"[red]Verify failed:[/] {Format.Count(report.DifferenceCount)} difference(s); {Format.Count(report.RunsIdentical)} of {Format.Count(sourceRuns)} runs identical.");
        if (report.DifferingRuns.Count > 0)
        {
            console.MarkupLine("First differing runs: " + Markup.Escape(string.Join(", ", report.DifferingRuns)));
        }

        foreach (var difference in report.Differences)
        {
            console.MarkupLine($"  {Markup.Escape(difference.Kind)} {Markup.Escape(difference.Key)}: {Markup.Escape(difference.Problem)}");
        }
    }
}
