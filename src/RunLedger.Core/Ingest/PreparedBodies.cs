using RunLedger.Core.Payloads;

namespace RunLedger.Core.Ingest;

/// <summary>
/// A run's bodies as the store will keep them, encoded before the batch reached the writer.
/// </summary>
/// <param name="Input">The encoded input; null when the write sends none.</param>
/// <param name="Output">The encoded output; null when the write sends none.</param>
/// <param name="SearchText">
/// The full-text of the run as a new run would be indexed (input, output and error text, see
/// <see cref="PayloadText.RunSearchText"/>); null when the store indexes nothing itself.
/// </param>
/// <param name="SearchError">The error message <paramref name="SearchText"/> was built with.</param>
public sealed record PreparedBodies(EncodedPayload? Input, EncodedPayload? Output, string? SearchText, string? SearchError);
