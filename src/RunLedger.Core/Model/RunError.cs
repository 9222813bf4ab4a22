namespace RunLedger.Core.Model;

/// <summary>Why a run failed.</summary>
public sealed record RunError
{
    public string? Type { get; init; }

    public string? Message { get; init; }

    public string? Stack { get; init; }
}
