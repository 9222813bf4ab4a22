namespace RunLedger.Core.Payloads;

/// <summary>How a stored body's bytes are encoded. The numeric values are persisted: never renumber.</summary>
public enum PayloadEncoding
{
    /// <summary>The UTF-8 bytes of the JSON text, as is.</summary>
    Utf8 = 0,

    /// <summary>The UTF-8 bytes of the JSON text, Brotli-compressed.</summary>
    Brotli = 1,
}
