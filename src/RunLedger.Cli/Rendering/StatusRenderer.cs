using Spectre.Console;

namespace RunLedger.Cli.Rendering;

/// <summary>Draws the <c>runledger status</c> report: a summary panel, then sessions, failures, slowest runs and cost by model.</summary>
internal static class StatusRenderer
{
    public static void Render(IAnsiConsole console, StatusReport report, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(report);
        var total = report.Total;

        var summary = new Grid().AddColumn(new GridColumn().NoWrap().PadRight(2)).AddColumn();
        summary.AddRow(Styles.Dim("window"), Styles.Escape($"{Format.Utc(report.From)} → {Format.Utc(report.To)}"));
        summary.AddRow(Styles.Dim("runs"), total.Count == 0
            ? "none"
            : $"{Styles.Bold(Format.Count(total.Count))}   errors {Styles.Errors(total.Errors)} ({Styles.Escape(Format.Percent(total.ErrorRate))})");
        if (report.ByStatus.Count > 0)
        {
            summary.AddRow(Styles.Dim("by status"), string.Join("   ", report.ByStatus.Select(s => $"{Styles.Status(s.Status)} {Format.Count(s.Count)}")));
        }

        summary.AddRow(Styles.Dim("cost"), Styles.Escape(Format.Cost(total.CostUsd)));
        summary.AddRow(Styles.Dim("tokens"), Styles.Escape($"{Format.Tokens(total.InputTokens)} in, {Format.Tokens(total.OutputTokens)} out"));
        if (total.Count > 0)
        {
            summary.AddRow(Styles.Dim("latency"), Styles.Escape($"p50 {Format.Duration(total.P50Ms)}   p95 {Format.Duration(total.P95Ms)}   p99 {Format.Duration(total.P99Ms)}   max {Format.Duration(total.MaxMs)}"));
        }

        var active = report.Sessions.Count(s => s.State == "active");
        summary.AddRow(Styles.Dim("sessions"), Styles.Escape($"{report.Sessions.Count}{(report.MoreSessions ? "+" : string.Empty)} started ({active} still active, {report.Sessions.Count - active} ended)"));

        console.Write(new Panel(summary)
        {
            Header = new PanelHeader($" RunLedger status · last {Styles.Escape(report.Since)} · {Styles.Escape(report.Server.ToString())} "),
            Border = BoxBorder.Rounded,
            Expand = true,
        });

        if (report.Sessions.Count > 0)
        {
            console.Write(new Rule(Styles.Bold("sessions")).LeftJustified());
            console.Write(SessionRenderer.Table(report.Sessions, now));
            if (report.MoreSessions)
            {
                console.MarkupLine(Styles.Dim("More sessions started in the window: runledger sessions list started>-" + report.Since.TrimStart('-')));
            }
        }

        if (report.Failures.Count > 0)
        {
            var errorCount = report.ByStatus.Where(s => s.Status is "failed" or "timeout").Sum(s => s.Count);
            var title = errorCount > report.Failures.Count ? $"failures ({Format.Count(errorCount)}, newest {report.Failures.Count})" : $"failures ({report.Failures.Count})";
            console.Write(new Rule($"[red]{Styles.Escape(title)}[/]").LeftJustified());
            var table = new Table().Border(TableBorder.Simple)
                .AddColumn("when").AddColumn("status").AddColumn("name").AddColumn("model").AddColumn("error").AddColumn("run id");
            foreach (var run in report.Failures)
            {
                var error = run.Error is null
                    ? Format.None
                    : Format.OneLine($"{run.Error.Type}{(run.Error.Type is null ? string.Empty : ": ")}{run.Error.Message}", 70);
                table.AddRow(
                    Styles.Escape(Format.Ago(run.StartedAt, now)),
                    Styles.Status(run.Status),
                    Styles.Escape(Format.OneLine(run.Name, 30)),
                    Styles.Escape(run.Model ?? Format.None),
                    Styles.Escape(error),
                    Styles.Escape(run.Id.ToString()));
            }

            console.Write(table);
        }
        else if (total.Count > 0)
        {
            console.MarkupLine("[green]No failures.[/]");
        }

        if (report.Slowest.Count > 0)
        {
            console.Write(new Rule(Styles.Bold($"slowest runs (top {report.Slowest.Count})")).LeftJustified());
            var table = new Table().Border(TableBorder.Simple)
                .AddColumn(new TableColumn("duration").RightAligned()).AddColumn("status").AddColumn("kind").AddColumn("name").AddColumn("model").AddColumn("when").AddColumn("run id");
            foreach (var run in report.Slowest)
            {
                table.AddRow(
                    Styles.Escape(Format.Duration(run.DurationMs)),
                    Styles.Status(run.Status),
                    Styles.Escape(run.Kind),
                    Styles.Escape(Format.OneLine(run.Name, 30)),
                    Styles.Escape(run.Model ?? Format.None),
                    Styles.Escape(Format.Ago(run.StartedAt, now)),
                    Styles.Escape(run.Id.ToString()));
            }

            console.Write(table);
        }

        var models = report.ByModel.Where(g => g.Key.TryGetValue("model", out var m) && m is not null).Take(8).ToList();
        if (models.Count > 0)
        {
            console.Write(new Rule(Styles.Bold("by model")).LeftJustified());
            var table = new Table().Border(TableBorder.Simple)
                .AddColumn("model").AddColumn(new TableColumn("runs").RightAligned()).AddColumn(new TableColumn("errors").RightAligned())
                .AddColumn(new TableColumn("tokens in/out").RightAligned()).AddColumn(new TableColumn("cost").RightAligned())
                .AddColumn(new TableColumn("p95").RightAligned());
            foreach (var group in models)
            {
                var f = group.Figures;
                table.AddRow(
                    Styles.Escape(group.Key["model"]),
                    Format.Count(f.Count),
                    Styles.Errors(f.Errors),
                    Styles.Escape($"{Format.Tokens(f.InputTokens)} / {Format.Tokens(f.OutputTokens)}"),
                    Styles.Escape(Format.Cost(f.CostUsd)),
                    Styles.Escape(Format.Duration(f.P95Ms)));
            }

            console.Write(table);
        }
    }
}
