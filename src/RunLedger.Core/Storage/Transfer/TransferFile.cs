using System.Globalization;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace RunLedger.Core.Storage.Transfer;

/// <summary>
/// The portable logical backup: gzip-compressed JSON Lines (readable with <c>zcat | jq</c>). The
/// first line is a <see cref="TransferFileHeader"/>, then one <see cref="TransferRecord"/> per
/// line in canonical order, then a <see cref="TransferFileEnd"/> line with the record count, so
/// a cut-off file is recognized instead of restored in part.
/// </summary>
public static class TransferFile
{
    public const string Format = "runledger-transfer";

    /// <summary>
    /// The format version written: 2 since the hourly rollup tier (its rows are in the file).
    /// Version 1 files have none; restoring one adds them up from the 5-minute rows afterwards
    /// (<see cref="ILedgerTransfer.RebuildHourlyRollupsAsync"/>).
    /// </summary>
    public const int Version = 2;

    /// <summary>The last version without hourly rollup rows.</summary>
    public const int VersionWithoutHourlyRollups = 1;

    private static ReadOnlySpan<byte> GzipMagic => [0x1f, 0x8b];

    /// <summary>True when <paramref name="path"/> starts with the gzip magic bytes.</summary>
    public static bool IsGzipFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        Span<byte> buffer = stackalloc byte[2];
        using var file = File.OpenRead(path);
        return file.ReadAtLeast(buffer, 2, throwOnEndOfStream: false) == 2 && buffer.SequenceEqual(GzipMagic);
    }

    /// <summary>Writes everything <paramref name="source"/> holds; returns the number of lines of records.</summary>
    public static async Task<long> WriteAsync(ITransferSource source, Stream output, TimeProvider time, IProgress<CopyProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(time);
        var counts = await source.CountAsync(cancellationToken).ConfigureAwait(false);
        var header = new TransferFileHeader(Format, Version, await source.GetIdAsync(cancellationToken).ConfigureAwait(false), time.GetUtcNow(), counts);
        await using var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true);
        await using var writer = new StreamWriter(gzip, new UTF8Encoding(false), 1 << 16);
        await writer.WriteLineAsync(JsonSerializer.Serialize(header, LedgerJson.Options).AsMemory(), cancellationToken).ConfigureAwait(false);
        long count = 0, data = 0;
        await foreach (var page in source.ReadAsync(null, cancellationToken).ConfigureAwait(false))
        {
            foreach (var record in page.Records)
            {
                await writer.WriteLineAsync(JsonSerializer.Serialize(record, LedgerJson.Options).AsMemory(), cancellationToken).ConfigureAwait(false);
            }

            count += page.Records.Count;
            data += page.Records.Count(r => r is not RollupRangeRecord);
            progress?.Report(new CopyProgress(data, counts?.Total, data, 0));
        }

        await writer.WriteLineAsync(JsonSerializer.Serialize(new TransferFileEnd(true, count), LedgerJson.Options).AsMemory(), cancellationToken).ConfigureAwait(false);
        return count;
    }

    /// <summary>Reads the header of the file at <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not a RunLedger logical backup.</exception>
    public static TransferFileHeader ReadHeader(string path)
    {
        using var reader = OpenText(path);
        return ParseHeader(reader.ReadLine(), path);
    }

    internal static StreamReader OpenText(string path) =>
        new(new GZipStream(File.OpenRead(path), CompressionMode.Decompress), new UTF8Encoding(false), false, 1 << 16);

    internal static TransferFileHeader ParseHeader(string? line, string path)
    {
        TransferFileHeader? header = null;
        try
        {
            header = line is null ? null : JsonSerializer.Deserialize<TransferFileHeader>(line, LedgerJson.Options);
        }
        catch (JsonException)
        {
        }

        if (header is null || header.Format != Format)
        {
            throw new InvalidDataException($"{path} is gzip data but not a RunLedger backup (its first line is not a '{Format}' header).");
        }

        if (header.Version > Version)
        {
            throw new InvalidDataException(string.Create(
                CultureInfo.InvariantCulture,
                $"{path} is a RunLedger backup of format version {header.Version}, newer than this RunLedger reads ({Version}); upgrade RunLedger."));
        }

        return header;
    }
}
