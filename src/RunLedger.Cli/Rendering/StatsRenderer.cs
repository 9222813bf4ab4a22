using RunLedger.Core.Storage;
using Spectre.Console;

namespace RunLedger.Cli.Rendering;

/// <summary>Draws a stats answer: the totals, one row per group, and the series when asked.</summary>
internal static class StatsRenderer
{
    public static void Render(IAnsiConsole console, StatsResult stats)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(stats);
        var window = $"{Format.Utc(stats.From)} → {Format.Utc(stats.To)} ({Format.Span(stats.To - stats.From)})";
        console.MarkupLine($"{Styles.Bold("stats")} {Styles.Escape(window)} {Styles.Dim($"from {stats.Source}")}");

        var dims = stats.GroupBy.Count == 0 ? ["all"] : stats.GroupBy;
        var compare = stats.PreviousTotal is not null;
        var table = new Table().Border(TableBorder.Simple);
        foreach (var dim in dims)
        {
            table.AddColumn(Styles.Escape(dim));
        }

        AddFigureColumns(table, compare);
        foreach (var group in stats.Groups.OrderByDescending(g => g.Figures.Count))
        {
            var cells = dims.Select(d => Styles.Escape(stats.GroupBy.Count == 0 ? "all" : group.Key.TryGetValue(d, out var v) ? v ?? "(none)" : "(none)")).ToList();
            cells.AddRange(FigureCells(group.Figures, group.Previous, compare));
            table.AddRow(cells.ToArray());
        }

        var totals = dims.Select((_, i) => i == 0 ? Styles.Bold("total") : string.Empty).ToList();
        totals.AddRange(FigureCells(stats.Total, stats.PreviousTotal, compare));
        if (stats.GroupBy.Count > 0 || stats.Groups.Count == 0)
        {
            table.AddEmptyRow();
            table.AddRow(totals.ToArray());
        }

        console.Write(table);

        var withSeries = stats.Groups.Where(g => g.Series is { Count: > 0 }).ToList();
        if (withSeries.Count == 0)
        {
            return;
        }

        var series = new Table().Border(TableBorder.Simple).Title(Styles.Escape($"per {stats.Interval}"));
        series.AddColumn("group").AddColumn("start");
        AddFigureColumns(series, compare: false);
        foreach (var group in withSeries)
        {
            var label = stats.GroupBy.Count == 0 ? "all" : string.Join(", ", group.Key.Select(kv => $"{kv.Key}={kv.Value}"));
            foreach (var point in group.Series!)
            {
                var cells = new List<string> { Styles.Escape(label), Styles.Escape(Format.Utc(point.Start)) };
                cells.AddRange(FigureCells(point.Figures, null, compare: false));
                series.AddRow(cells.ToArray());
            }
        }

        console.Write(series);
    }

    private static void AddFigureColumns(Table table, bool compare)
    {
        table.AddColumn(new TableColumn("runs").RightAligned());
        if (compare)
        {
            table.AddColumn(new TableColumn("Δ runs").RightAligned());
        }

        table.AddColumn(new TableColumn("errors").RightAligned())
            .AddColumn(new TableColumn("tokens in/out").RightAligned())
            .AddColumn(new TableColumn("cost").RightAligned());
        if (compare)
        {
            table.AddColumn(new TableColumn("Δ cost").RightAligned());
        }

        table.AddColumn(new TableColumn("p50").RightAligned())
            .AddColumn(new TableColumn("p95").RightAligned())
            .AddColumn(new TableColumn("p99").RightAligned());
        if (compare)
        {
            table.AddColumn(new TableColumn("Δ p95").RightAligned());
        }

        table.AddColumn(new TableColumn("max").RightAligned());
    }

    private static List<string> FigureCells(StatsFigures figures, StatsFigures? previous, bool compare)
    {
        var cells = new List<string> { Format.Count(figures.Count) };
        if (compare)
        {
            cells.Add(Styles.Escape(Change(figures.Count, previous?.Count)));
        }

        cells.Add(figures.Errors == 0 ? "0" : $"{Styles.Errors(figures.Errors)} ({Styles.Escape(Format.Percent(figures.ErrorRate))})");
        cells.Add(Styles.Escape($"{Format.Tokens(figures.InputTokens)} / {Format.Tokens(figures.OutputTokens)}"));
        cells.Add(Styles.Escape(Format.Cost(figures.CostUsd)));
        if (compare)
        {
            cells.Add(Styles.Escape(Change((double)figures.CostUsd, (double?)previous?.CostUsd)));
        }

        cells.Add(Styles.Escape(Format.Duration(figures.P50Ms)));
        cells.Add(Styles.Escape(Format.Duration(figures.P95Ms)));
        cells.Add(Styles.Escape(Format.Duration(figures.P99Ms)));
        if (compare)
        {
            cells.Add(Styles.Escape(Change(figures.P95Ms, previous?.P95Ms)));
        }

        cells.Add(Styles.Escape(Format.Duration(figures.MaxMs)));
        return cells;
    }

    /// <summary>The relative change from the previous period: <c>+12%</c>, <c>-3%</c>, <c>new</c>.</summary>
    internal static string Change(double? current, double? previous)
    {
        if (current is null || previous is null)
        {
            return Format.None;
        }

        if (previous == 0)
        {
            return current == 0 ? "0%" : "new";
        }

        var change = (current.Value - previous.Value) / previous.Value;
        var text = (Math.Abs(change) * 100).ToString(Math.Abs(change) < 0.1 ? "0.#" : "0", System.Globalization.CultureInfo.InvariantCulture) + "%";
        return change switch
        {
            > 0 => "+" + text,
            < 0 => "-" + text,
            _ => "0%",
        };
    }
}
