namespace RunLedger.Core.Model;

/// <summary>Token usage of a run.</summary>
public sealed record Usage
{
    public long? InputTokens { get; init; }

    public long? OutputTokens { get; init; }

    public long? CachedTokens { get; init; }

    public long? ReasoningTokens { get; init; }

    public long TotalTokens => (InputTokens ?? 0) + (OutputTokens ?? 0);
}
