using System.Text.Json;

namespace RunLedger.Core.Storage.Transfer;

/// <summary>
/// A position in a store's export: the phase, the project being read (per-project phases) and
/// the key of the last record read, as text (a session id, a run id, a rollup key as JSON, an
/// event id). Written in checkpoints as compact JSON.
/// </summary>
internal sealed record StorePosition(TransferPhase Phase, string? Project, string? After)
{
    public static StorePosition Start { get; } = new(TransferPhase.Projects, null, null);

    public override string ToString() => JsonSerializer.Serialize(this, LedgerJson.Options);

    /// <exception cref="FormatException">The text is not a position a store export made.</exception>
    public static StorePosition Parse(string text)
    {
        try
        {
            return JsonSerializer.Deserialize<StorePosition>(text, LedgerJson.Options)
                ?? throw new FormatException("The checkpoint position is empty.");
        }
        catch (JsonException e)
        {
            throw new FormatException("The checkpoint position is not one a store export made: " + e.Message, e);
        }
    }
}
