namespace RunLedger.Core.Model;

/// <summary>The states a session can be in.</summary>
public static class SessionStates
{
    public const string Active = "active";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
    public const string Abandoned = "abandoned";

    public static IReadOnlyList<string> All { get; } = [Active, Completed, Failed, Cancelled, Abandoned];

    public static bool IsKnown(string state) => All.Contains(state, StringComparer.Ordinal);

    public static bool IsEnded(string state) => state != Active;
}
