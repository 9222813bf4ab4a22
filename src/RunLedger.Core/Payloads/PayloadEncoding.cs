namespace RunLedger.Core.Payloads;

/// <summary>How a stored body's bytes are encoded. The numeric values are persisted: never renumber.</summary>
public enum PayloadEncoding
{
    /// <summary>The UTF-8 bytes of the JSON text, as is.</summary>
    Utf8 = 0,

    /// <summary>The UTF-8 bytes of the JSON text, Brotli-compressed (one body alone).</summary>
    Brotli = 1,

    /// <summary>
    /// One zstd frame of the UTF-8 bytes of the JSON text, compressed with a dictionary trained from
    /// the ledger's own bodies. The frame header names the dictionary by its id
    /// (<see cref="PayloadDictionary.Id"/>); reading needs that dictionary.
    /// </summary>
    ZstdDictionary = 2,
}
