using RunLedger.Core.Model;
using Spectre.Console;

namespace RunLedger.Cli.Rendering;

/// <summary>Draws sessions: a table for lists, a panel and the run table for one session.</summary>
internal static class SessionRenderer
{
    public static Table Table(IReadOnlyList<Session> sessions, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(sessions);
        var table = new Table().Border(TableBorder.Simple)
            .AddColumn("started")
            .AddColumn("state")
            .AddColumn("session")
            .AddColumn(new TableColumn("runs").RightAligned())
            .AddColumn(new TableColumn("failed").RightAligned())
            .AddColumn(new TableColumn("tokens").RightAligned())
            .AddColumn(new TableColumn("cost").RightAligned())
            .AddColumn("last run");
        foreach (var session in sessions)
        {
            var label = session.Name is { Length: > 0 } name && name != session.Id
                ? $"{Styles.Escape(session.Id)} {Styles.Dim(Format.OneLine(name, 30))}"
                : Styles.Escape(session.Id);
            table.AddRow(
                Styles.Escape(Format.Ago(session.StartedAt ?? session.CreatedAt, now)),
                Styles.Status(session.State),
                label,
                Format.Count(session.RunCount),
                Styles.Errors(session.FailedCount),
                Styles.Escape(Format.Tokens(session.InputTokens + session.OutputTokens)),
                Styles.Escape(Format.Cost(session.CostUsd)),
                Styles.Escape(Format.Ago(session.LastRunAt, now)));
        }

        return table;
    }

    public static void RenderList(IAnsiConsole console, IReadOnlyList<Session> sessions, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(sessions);
        if (sessions.Count == 0)
        {
            console.MarkupLine(Styles.Dim("No sessions match."));
            return;
        }

        console.Write(Table(sessions, now));
        console.MarkupLine(Styles.Dim($"{sessions.Count} sessions"));
    }

    public static void RenderDetail(IAnsiConsole console, SessionDetail detail, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(detail);
        var session = detail.Session;
        var grid = new Grid().AddColumn(new GridColumn().NoWrap().PadRight(2)).AddColumn();
        grid.AddRow(Styles.Dim("id"), Styles.Escape(session.Id));
        grid.AddRow(Styles.Dim("state"), Styles.Status(session.State));
        grid.AddRow(Styles.Dim("started"), Styles.Escape($"{Format.Utc(session.StartedAt)} ({Format.Ago(session.StartedAt, now)})"));
        if (session.EndedAt is not null)
        {
            grid.AddRow(Styles.Dim("ended"), Styles.Escape($"{Format.Utc(session.EndedAt)} (after {Format.Span((session.EndedAt - session.StartedAt) ?? TimeSpan.Zero)})"));
        }

        grid.AddRow(Styles.Dim("runs"), $"{Format.Count(session.RunCount)} ({Styles.Errors(session.FailedCount)} failed)");
        grid.AddRow(Styles.Dim("tokens"), Styles.Escape($"{Format.Tokens(session.InputTokens)} in, {Format.Tokens(session.OutputTokens)} out"));
        grid.AddRow(Styles.Dim("cost"), Styles.Escape(Format.Cost(session.CostUsd)));
        grid.AddRow(Styles.Dim("last run"), Styles.Escape(Format.Ago(session.LastRunAt, now)));
        if (session.Metadata is not null && session.Metadata.Text != "{}")
        {
            grid.AddRow(Styles.Dim("metadata"), Styles.Escape(BodyText.Summary(session.Metadata, 200)));
        }

        if (detail.RunsByStatus.Count > 0)
        {
            grid.AddRow(Styles.Dim("by status"), string.Join("  ", detail.RunsByStatus.OrderByDescending(s => s.Count).Select(s => $"{Styles.Status(s.Status)} {Format.Count(s.Count)}")));
        }

        console.Write(new Panel(grid)
        {
            Header = new PanelHeader($" session {Styles.Bold(session.Name ?? session.Id)} "),
            Expand = true,
        });

        RunRenderer.RenderList(console, detail.Runs, now);
    }
}
