namespace RunLedger.Core.Workload;

/// <summary>A model's list price in US dollars per million tokens.</summary>
public sealed record ModelPrice(string Model, string Provider, decimal InputUsdPerMillion, decimal OutputUsdPerMillion)
{
    /// <summary>The cost of one call: tokens times price per million, rounded to 1e-9 USD (midpoint away from zero).</summary>
    public decimal CostUsd(long inputTokens, long outputTokens) =>
        Math.Round(((inputTokens * InputUsdPerMillion) + (outputTokens * OutputUsdPerMillion)) / 1_000_000m, 9, MidpointRounding.AwayFromZero);
}
