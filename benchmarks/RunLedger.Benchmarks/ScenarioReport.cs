using System.Globalization;
using System.Text;

namespace RunLedger.Benchmarks;

/// <summary>What a scenario measured: a table, a summary of ratios against targets, and notes.</summary>
internal sealed class ScenarioReport
{
    public required string Scenario { get; init; }

    public required string Title { get; init; }

    public required IReadOnlyList<string> Columns { get; init; }

    public List<IReadOnlyList<string>> Rows { get; } = [];

    public List<SummaryLine> Summary { get; } = [];

    public List<string> Notes { get; } = [];

    public Dictionary<string, double> Metrics { get; } = new(StringComparer.Ordinal);

    public MachineInfo Machine { get; } = MachineInfo.Current();

    public DateTimeOffset MeasuredAt { get; } = DateTimeOffset.UtcNow;

    public required string Command { get; init; }

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"## {Title}\n\n");
        text.Append(CultureInfo.InvariantCulture, $"`{Command}` — {Machine.Describe()}, measured {MeasuredAt.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC\n\n");
        AppendTable(text, Columns, Rows);
        if (Summary.Count > 0)
        {
            text.Append('\n');
            AppendTable(
                text,
                ["measure", "value", "target", "verdict"],
                [.. Summary.Select(s => (IReadOnlyList<string>)[s.Measure, s.Value, s.Target ?? "", s.Verdict])]);
        }

        if (Notes.Count > 0)
        {
            text.Append('\n');
            foreach (var note in Notes)
            {
                text.Append(CultureInfo.InvariantCulture, $"- {note}\n");
            }
        }

        return text.ToString();
    }

    private static void AppendTable(StringBuilder text, IReadOnlyList<string> columns, IReadOnlyList<IReadOnlyList<string>> rows)
    {
        var widths = columns.Select((c, i) => Math.Max(c.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        AppendRow(text, columns, widths);
        text.Append('|');
        foreach (var width in widths)
        {
            text.Append(new string('-', width + 2)).Append('|');
        }

        text.Append('\n');
        foreach (var row in rows)
        {
            AppendRow(text, row, widths);
        }
    }

    private static void AppendRow(StringBuilder text, IReadOnlyList<string> cells, int[] widths)
    {
        text.Append('|');
        for (var i = 0; i < cells.Count; i++)
        {
            text.Append(' ').Append(cells[i].PadRight(widths[i])).Append(" |");
        }

        text.Append('\n');
    }
}

/// <summary>One ratio or figure set against its target.</summary>
internal sealed record SummaryLine(string Measure, string Value, string? Target, string Verdict)
{
    public static SummaryLine Check(string measure, double value, string format, double target, bool higherIsBetter, string targetText)
    {
        var met = higherIsBetter ? value >= target : value <= target;
        return new SummaryLine(measure, Fmt.Number(value, format), targetText, met ? "met" : "MISSED");
    }
}
