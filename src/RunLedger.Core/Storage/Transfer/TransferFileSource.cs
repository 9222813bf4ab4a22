using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace RunLedger.Core.Storage.Transfer;

/// <summary>
/// Reads a logical backup as a transfer source. Its position is the number of records read,
/// so a restore that stopped resumes by skipping that many lines.
/// </summary>
public sealed class TransferFileSource : ITransferSource
{
    private readonly string _path;
    private readonly int _pageSize;
    private readonly TransferFileHeader _header;

    public TransferFileSource(string path, int pageSize = 500)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _path = path;
        _pageSize = pageSize;
        _header = TransferFile.ReadHeader(path);
    }

    public TransferFileHeader Header => _header;

    public Task<string> GetIdAsync(CancellationToken cancellationToken) =>
        Task.FromResult(string.Create(CultureInfo.InvariantCulture, $"file:{_header.SourceId}:{_header.CreatedAt.ToUnixTimeMilliseconds()}"));

    public Task<TransferCounts?> CountAsync(CancellationToken cancellationToken) => Task.FromResult(_header.Counts);

    public async IAsyncEnumerable<TransferPage> ReadAsync(string? position, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var skip = position is null ? 0 : long.Parse(position, CultureInfo.InvariantCulture);
        using var reader = TransferFile.OpenText(_path);
        TransferFile.ParseHeader(await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false), _path);
        long read = 0;
        var page = new List<TransferRecord>(_pageSize);
        while (true)
        {
            var line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{_path} ends after {read} records without its end line: the backup is incomplete."));
            if (line.StartsWith("{\"end\":", StringComparison.Ordinal))
            {
                var end = JsonSerializer.Deserialize<TransferFileEnd>(line, LedgerJson.Options)!;
                if (end.Records != read)
                {
                    throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{_path} says it holds {end.Records} records but has {read}."));
                }

                break;
            }

            read++;
            if (read <= skip)
            {
                continue;
            }

            page.Add(Parse(line, read));
            if (page.Count == _pageSize)
            {
                yield return new TransferPage(page, read.ToString(CultureInfo.InvariantCulture));
                page = new List<TransferRecord>(_pageSize);
            }
        }

        if (page.Count > 0)
        {
            yield return new TransferPage(page, read.ToString(CultureInfo.InvariantCulture));
        }
    }

    private TransferRecord Parse(string line, long number)
    {
        try
        {
            return JsonSerializer.Deserialize<TransferRecord>(line, LedgerJson.Options)
                ?? throw new InvalidDataException($"{_path}: record {number} is null.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{_path}: record {number} is not a RunLedger record: {e.Message}"), e);
        }
    }
}
