using System.Globalization;

namespace RunLedger.Core.Payloads;

/// <summary>Limits and compression settings for stored bodies (run inputs, outputs, event data).</summary>
public sealed class PayloadOptions
{
    /// <summary>Bodies larger than this many UTF-8 bytes are replaced by a truncation marker. Default 1 MiB.</summary>
    public int MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>How many leading bytes of a truncated body the marker keeps as a preview. Default 4 KiB.</summary>
    public int TruncatedHeadBytes { get; set; } = 4 * 1024;

    /// <summary>Bodies smaller than this many bytes are stored as plain UTF-8. Default 256.</summary>
    public int CompressionThresholdBytes { get; set; } = 256;

    /// <summary>
    /// Brotli quality, 0 (fastest) to 11 (smallest). Default 2: on the benchmark workload (bodies of
    /// about 1 KB) quality 2 keeps bodies at 53 % of their size for 11 µs each, quality 4 at 50 % for
    /// 27 µs and quality 5 (the smallest, flat up to 9) at 47 % for 31 µs.
    /// </summary>
    public int CompressionQuality { get; set; } = 2;

    /// <summary>
    /// Whether the SQLite store compresses bodies with zstd dictionaries trained from the ledger's own
    /// bodies (see <see cref="PayloadDictionaryTrainer"/>). Default true: on the benchmark workload
    /// bodies take 7 % of their size this way instead of 53 % with Brotli alone, because what repeats
    /// is shared between bodies (prompts, templates, JSON keys), and one body still decompresses on
    /// its own in microseconds. Until a ledger has written <see cref="DictionarySampleBytes"/> of
    /// bodies (and when this is false) bodies are compressed with Brotli one by one.
    /// </summary>
    public bool UseDictionaries { get; set; } = true;

    /// <summary>zstd level for compressing with a dictionary, 1 to 19. Default 3 (6 saved another 10 % of the bodies' bytes for twice the CPU).</summary>
    public int DictionaryCompressionLevel { get; set; } = 3;

    /// <summary>Largest dictionary to train, in bytes. Default 64 KiB.</summary>
    public int DictionaryMaxBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// Bytes of bodies sampled to train a dictionary (each body's first 16 KiB at most). Default 1 MiB:
    /// on the benchmark workload 512 KiB trained dictionaries that kept bodies at 6.5 % or at 11-11.5 %
    /// of their size depending on which bodies the sample caught; 1 MiB or more gave 6.0-6.3 % every
    /// time, for about twice the training time (about 0.4 s, once per sample).
    /// </summary>
    public int DictionarySampleBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Bytes of bodies written after a dictionary is trained before a fresh sample is taken to train a
    /// newer one, kept only if it compresses better by at least 5 %; the stretches grow eightfold from
    /// <see cref="DictionarySampleBytes"/> up to this. Default 256 MiB.
    /// </summary>
    public long DictionaryRetrainBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Bodies smaller than this many bytes are not compressed with a dictionary (nor sampled). Default 32.</summary>
    public int DictionaryThresholdBytes { get; set; } = 32;

    /// <summary>
    /// Whether stores keep one copy per content hash. Default true; turned off only to measure
    /// what deduplication saves. The codec itself does not read it.
    /// </summary>
    public bool Deduplicate { get; set; } = true;

    /// <summary>Every problem with these options, all at once; empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (MaxBodyBytes <= 0)
        {
            errors.Add(Invariant($"MaxBodyBytes must be positive (was {MaxBodyBytes})."));
        }

        if (TruncatedHeadBytes < 0 || TruncatedHeadBytes >= MaxBodyBytes)
        {
            errors.Add(Invariant($"TruncatedHeadBytes must be at least 0 and less than MaxBodyBytes (was {TruncatedHeadBytes})."));
        }

        if (CompressionThresholdBytes < 0)
        {
            errors.Add(Invariant($"CompressionThresholdBytes must not be negative (was {CompressionThresholdBytes})."));
        }

        if (CompressionQuality is < 0 or > 11)
        {
            errors.Add(Invariant($"CompressionQuality must be between 0 and 11 (was {CompressionQuality})."));
        }

        if (DictionaryCompressionLevel is < 1 or > 19)
        {
            errors.Add(Invariant($"DictionaryCompressionLevel must be between 1 and 19 (was {DictionaryCompressionLevel})."));
        }

        if (DictionaryMaxBytes is < 1024 or > 16 * 1024 * 1024)
        {
            errors.Add(Invariant($"DictionaryMaxBytes must be between 1024 and 16777216 (was {DictionaryMaxBytes})."));
        }

        if (DictionarySampleBytes < 8L * DictionaryMaxBytes)
        {
            errors.Add(Invariant($"DictionarySampleBytes must be at least 8 times DictionaryMaxBytes (was {DictionarySampleBytes}, DictionaryMaxBytes {DictionaryMaxBytes})."));
        }

        if (DictionaryRetrainBytes <= 0)
        {
            errors.Add(Invariant($"DictionaryRetrainBytes must be positive (was {DictionaryRetrainBytes})."));
        }

        if (DictionaryThresholdBytes < 0)
        {
            errors.Add(Invariant($"DictionaryThresholdBytes must not be negative (was {DictionaryThresholdBytes})."));
        }

        return errors;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
