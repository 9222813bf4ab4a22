using System.Globalization;
using System.Text;
using RunLedger.Core.Model;

namespace RunLedger.Cli.Rendering;

/// <summary>An event as one plain line: <c>2026-11-21 23:10:02Z #1234 run.failed session=s run=... name data</c>.</summary>
internal static class EventLine
{
    public static string Format(LedgerEvent ledgerEvent)
    {
        ArgumentNullException.ThrowIfNull(ledgerEvent);
        var line = new StringBuilder()
            .Append(Rendering.Format.Utc(ledgerEvent.Time))
            .Append("  #").Append(ledgerEvent.Id.ToString(CultureInfo.InvariantCulture))
            .Append("  ").Append(ledgerEvent.Type);
        if (ledgerEvent.SessionId is not null)
        {
            line.Append("  session=").Append(ledgerEvent.SessionId);
        }

        if (ledgerEvent.RunId is { } runId)
        {
            line.Append("  run=").Append(runId);
        }

        if (!string.IsNullOrEmpty(ledgerEvent.Name))
        {
            line.Append("  ").Append(ledgerEvent.Name);
        }

        if (ledgerEvent.Data is { } data && data.Text != "{}" && data.Text != "null")
        {
            line.Append("  ").Append(BodyText.Summary(data, 160));
        }

        return line.ToString();
    }
}
