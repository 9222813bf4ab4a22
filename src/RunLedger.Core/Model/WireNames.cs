using System.Diagnostics.CodeAnalysis;

namespace RunLedger.Core.Model;

/// <summary>
/// The lower-case names that kinds and statuses have on the wire, in the database and in the
/// filter language. One place, so the three can never disagree.
/// </summary>
public static class WireNames
{
    private static readonly string[] KindNames = ["llm", "agent", "tool", "retrieval", "pipeline", "step", "spec", "custom"];
    private static readonly string[] StatusNames = ["running", "succeeded", "failed", "timeout", "cancelled", "partial"];

    public static IReadOnlyList<string> Kinds => KindNames;

    public static IReadOnlyList<string> Statuses => StatusNames;

    public static string ToWire(this RunKind kind) => KindNames[(int)kind];

    public static string ToWire(this RunStatus status) => StatusNames[(int)status];

    public static bool TryParseKind(string? text, out RunKind kind)
    {
        var index = IndexOf(KindNames, text);
        kind = (RunKind)Math.Max(index, 0);
        return index >= 0;
    }

    public static bool TryParseStatus(string? text, out RunStatus status)
    {
        var index = IndexOf(StatusNames, text);
        status = (RunStatus)Math.Max(index, 0);
        return index >= 0;
    }

    public static RunKind ParseKind(string text) =>
        TryParseKind(text, out var kind) ? kind : throw new FormatException($"Unknown run kind '{text}'.");

    public static RunStatus ParseStatus(string text) =>
        TryParseStatus(text, out var status) ? status : throw new FormatException($"Unknown run status '{text}'.");

    /// <summary>Failed and timed-out runs count as errors in stats and session totals.</summary>
    public static bool IsError(this RunStatus status) => status is RunStatus.Failed or RunStatus.Timeout;

    public static bool IsTerminal(this RunStatus status) => status != RunStatus.Running;

    [SuppressMessage("Globalization", "CA1308", Justification = "Wire names are lower-case ASCII.")]
    private static int IndexOf(string[] names, string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return -1;
        }

        for (var i = 0; i < names.Length; i++)
        {
            if (string.Equals(names[i], text, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return -1;
    }
}
