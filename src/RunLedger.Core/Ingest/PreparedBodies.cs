using RunLedger.Core.Payloads;

namespace RunLedger.Core.Ingest;

/// <summary>
/// A run's bodies as the store will keep them, encoded before the batch reached the writer. Once a
/// batch is prepared, these are its bodies: the store may drop the sent JSON text from the batch's
/// runs (see <see cref="WriteBatch.PreparedRuns"/>), so a batch waiting for its commit holds the
/// compressed bytes, not the text twice over.
/// </summary>
/// <param name="Input">The encoded input; null when the write sends none.</param>
/// <param name="Output">The encoded output; null when the write sends none.</param>
/// <param name="SearchText">
/// The full-text of the run as a new run would be indexed (input, output and error text, see
/// <see cref="PayloadText.RunSearchText"/>), in UTF-8 as the store binds it (half the size of the
/// string while it waits for the indexer); null when the store indexes nothing itself.
/// </param>
/// <param name="SearchError">The error message <paramref name="SearchText"/> was built with.</param>
public sealed record PreparedBodies(EncodedPayload? Input, EncodedPayload? Output, byte[]? SearchText, string? SearchError);
