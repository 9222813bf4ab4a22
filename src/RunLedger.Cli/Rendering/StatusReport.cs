using RunLedger.Core.Model;
using RunLedger.Core.Storage;

namespace RunLedger.Cli.Rendering;

/// <summary>What <c>runledger status</c> shows: everything that happened in a window, gathered from several API calls.</summary>
internal sealed record StatusReport
{
    /// <summary>The look-back as typed (<c>12h</c>).</summary>
    public required string Since { get; init; }

    public required Uri Server { get; init; }

    public required DateTimeOffset From { get; init; }

    public required DateTimeOffset To { get; init; }

    public required StatsFigures Total { get; init; }

    public IReadOnlyList<StatusCount> ByStatus { get; init; } = [];

    /// <summary>Cost, tokens and errors per model, most expensive first.</summary>
    public IReadOnlyList<StatsGroup> ByModel { get; init; } = [];

    /// <summary>Sessions started in the window, newest first.</summary>
    public IReadOnlyList<Session> Sessions { get; init; } = [];

    public bool MoreSessions { get; init; }

    /// <summary>The newest failed or timed-out runs.</summary>
    public IReadOnlyList<Run> Failures { get; init; } = [];

    /// <summary>The slowest runs, slowest first.</summary>
    public IReadOnlyList<Run> Slowest { get; init; } = [];
}
