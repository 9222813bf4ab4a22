using RunLedger.Core.Model;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace RunLedger.Cli.Rendering;

/// <summary>Draws runs: a table for lists, panels and a tree for one run.</summary>
internal static class RunRenderer
{
    private const int BodyLines = 25;
    private const int BodyChars = 3_000;
    private const int StackLines = 12;
    private const int EventsShown = 30;

    public static void RenderList(IAnsiConsole console, IReadOnlyList<Run> runs, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(runs);
        if (runs.Count == 0)
        {
            console.MarkupLine(Styles.Dim("No runs match."));
            return;
        }

        var table = new Table().Border(TableBorder.Simple)
            .AddColumn("started")
            .AddColumn("status")
            .AddColumn("kind")
            .AddColumn("name")
            .AddColumn("model")
            .AddColumn(new TableColumn("duration").RightAligned())
            .AddColumn(new TableColumn("tokens").RightAligned())
            .AddColumn(new TableColumn("cost").RightAligned())
            .AddColumn("id");
        foreach (var run in runs)
        {
            table.AddRow(
                Styles.Escape(Format.Ago(run.StartedAt, now)),
                Styles.Status(run.Status),
                Styles.Escape(run.Kind),
                Styles.Escape(Format.OneLine(run.Name, 40)),
                Styles.Escape(run.Model ?? Format.None),
                Styles.Escape(Format.Duration(run.DurationMs)),
                Styles.Escape(Format.Tokens(run.Usage.TotalTokens)),
                Styles.Escape(Format.Cost(run.CostUsd)),
                Styles.Escape(run.Id.ToString()));
        }

        console.Write(table);
        console.MarkupLine(Styles.Dim($"{runs.Count} runs"));
    }

    public static void RenderDetail(IAnsiConsole console, RunDetail detail, DateTimeOffset now, bool full)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(detail);
        var run = detail.Run;

        console.Write(new Panel(Fields(run, now))
        {
            Header = new PanelHeader($" {Styles.Escape(run.Kind)} {Styles.Bold(run.Name ?? "(unnamed)")} {Styles.Status(run.Status)} "),
            Border = BoxBorder.Rounded,
            Expand = true,
        });

        if (run.Error is { } error)
        {
            var stack = error.Stack is null ? string.Empty : "\n" + (full ? error.Stack : BodyText.Truncate(error.Stack, StackLines, BodyChars));
            console.Write(new Panel(new Text($"{error.Type}: {error.Message}{stack}"))
            {
                Header = new PanelHeader(" [red]error[/] "),
                Expand = true,
            });
        }

        WriteBody(console, "input", run.Input, run.InputInfo, full);
        WriteBody(console, "output", run.Output, run.OutputInfo, full);
        if (run.Parameters is not null)
        {
            WriteBody(console, "parameters", run.Parameters, null, full);
        }

        if (detail.Children.Count > 0)
        {
            var tree = new Tree(Styles.Bold($"children ({detail.Children.Count})"));
            foreach (var child in detail.Children.OrderBy(c => c.StartedAt))
            {
                tree.AddNode(ChildLine(child));
            }

            console.Write(tree);
            console.WriteLine();
        }

        if (detail.Events.Count > 0)
        {
            var events = full ? detail.Events : detail.Events.TakeLast(EventsShown).ToList();
            var table = new Table().Border(TableBorder.Simple).Title($"events ({detail.Events.Count})")
                .AddColumn("id").AddColumn("time").AddColumn("type").AddColumn("name").AddColumn("data");
            foreach (var e in events)
            {
                table.AddRow(
                    e.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    Format.Utc(e.Time),
                    Styles.Escape(e.Type),
                    Styles.Escape(e.Name ?? string.Empty),
                    Styles.Escape(full ? BodyText.Render(e.Data) : BodyText.Summary(e.Data, 60)));
            }

            console.Write(table);
            if (events.Count < detail.Events.Count)
            {
                console.MarkupLine(Styles.Dim($"{detail.Events.Count - events.Count} earlier events left out; --full shows them."));
            }
        }
    }

    private static string ChildLine(Run child)
    {
        var parts = new List<string>
        {
            Styles.Status(child.Status),
            Styles.Escape(child.Kind),
            Styles.Bold(child.Name ?? "(unnamed)"),
        };
        if (child.Model is not null)
        {
            parts.Add(Styles.Escape(child.Model));
        }

        parts.Add(Styles.Escape(Format.Duration(child.DurationMs)));
        if (child.CostUsd is not null)
        {
            parts.Add(Styles.Escape(Format.Cost(child.CostUsd)));
        }

        if (child.Error?.Message is { } message)
        {
            parts.Add($"[red]{Styles.Escape(Format.OneLine(message, 60))}[/]");
        }

        parts.Add(Styles.Dim(child.Id.ToString()));
        return string.Join("  ", parts);
    }

    private static Grid Fields(Run run, DateTimeOffset now)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap().PadRight(2)).AddColumn();
        void Add(string label, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                grid.AddRow(Styles.Dim(label), Styles.Escape(value));
            }
        }

        Add("id", run.Id.ToString());
        Add("session", run.SessionId);
        Add("parent", run.ParentId?.ToString());
        Add("started", $"{Format.Utc(run.StartedAt)} ({Format.Ago(run.StartedAt, now)})");
        Add("ended", run.EndedAt is null ? null : Format.Utc(run.EndedAt));
        Add("duration", run.DurationMs is null ? null : Format.Duration(run.DurationMs));
        Add("model", run.Model is null ? null : run.Provider is null ? run.Model : $"{run.Model} ({run.Provider})");
        var usage = run.Usage;
        if (usage.InputTokens is not null || usage.OutputTokens is not null)
        {
            var extra = new List<string>();
            if (usage.CachedTokens is > 0)
            {
                extra.Add($"{Format.Tokens(usage.CachedTokens)} cached");
            }

            if (usage.ReasoningTokens is > 0)
            {
                extra.Add($"{Format.Tokens(usage.ReasoningTokens)} reasoning");
            }

            Add("tokens", $"{Format.Tokens(usage.InputTokens)} in, {Format.Tokens(usage.OutputTokens)} out" + (extra.Count > 0 ? $" ({string.Join(", ", extra)})" : string.Empty));
        }

        Add("cost", run.CostUsd is null ? null : Format.Cost(run.CostUsd));
        Add("tags", run.Tags.Count == 0 ? null : string.Join(", ", run.Tags));
        Add("metadata", run.Metadata is null || run.Metadata.Text == "{}" ? null : BodyText.Summary(run.Metadata, 200));
        Add("user", run.UserId);
        Add("source", run.Source);
        Add("pinned", run.Pinned ? "yes" : null);
        return grid;
    }

    private static void WriteBody(IAnsiConsole console, string title, RawJson? body, PayloadInfo? info, bool full)
    {
        if (info?.Unreadable is { } problem)
        {
            var damaged = new Markup($"[red]{Styles.Escape($"not shown: {problem}")}[/]");
            console.Write(new Panel(damaged) { Header = new PanelHeader($" {title} {Styles.Dim($"{info.OriginalBytes} bytes, sha256 {info.Sha256}")} "), Expand = true });
            return;
        }

        if (body is null)
        {
            return;
        }

        var text = BodyText.Render(body);
        if (!full)
        {
            text = BodyText.Truncate(text, BodyLines, BodyChars);
        }

        var header = info is null
            ? $" {title} "
            : $" {title} {Styles.Dim($"{info.OriginalBytes} bytes{(info.Truncated ? ", stored truncated" : string.Empty)}")} ";
        IRenderable content = new Text(text.Length == 0 ? "(empty)" : text);
        console.Write(new Panel(content) { Header = new PanelHeader(header), Expand = true });
    }
}
