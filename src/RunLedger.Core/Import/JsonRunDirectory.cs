using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using RunLedger.Core.Ingest;

namespace RunLedger.Core.Import;

/// <summary>
/// A directory of run documents (<c>*.json</c>, one run each, in the ingest wire shape or mapped
/// onto it with a <see cref="RunFieldMap"/>), read in ordinal file-name order so an import can
/// resume after the last file it wrote.
/// </summary>
public sealed class JsonRunDirectory
{
    private readonly RunFieldMap _map;

    /// <exception cref="DirectoryNotFoundException">There is no such directory.</exception>
    public JsonRunDirectory(string path, RunFieldMap map)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(map);
        FullPath = Path.GetFullPath(path);
        if (!Directory.Exists(FullPath))
        {
            throw new DirectoryNotFoundException($"There is no directory {FullPath}.");
        }

        _map = map;

        // Only the names are held (not the documents), so that resuming has a stable order.
        Files = [.. Directory.EnumerateFiles(FullPath, "*.json", SearchOption.TopDirectoryOnly)
            .Select(Path.GetFileName)
            .OfType<string>()
            .Order(StringComparer.Ordinal)];
    }

    public string FullPath { get; }

    /// <summary>The file names, in import order.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>
    /// Reads one document as a run. A document without an id gets one made from its content
    /// (a UUIDv7 whose time is the run's start), so importing it again updates the same run.
    /// </summary>
    /// <exception cref="RunDocumentException">The file is not a JSON object or not a run.</exception>
    /// <exception cref="RunMappingException">A mapped path is not in the document.</exception>
    public async Task<RunPayload> ReadAsync(string file, CancellationToken cancellationToken)
    {
        var bytes = await File.ReadAllBytesAsync(Path.Combine(FullPath, file), cancellationToken).ConfigureAwait(false);
        RunPayload? run;
        try
        {
            if (_map.IsEmpty)
            {
                // Unmapped documents are read as they are, so bodies keep their exact text.
                run = JsonSerializer.Deserialize<RunPayload>(bytes, LedgerJson.Options);
            }
            else
            {
                var node = JsonNode.Parse(bytes) ?? throw new RunDocumentException(file, "the document is null.");
                run = JsonSerializer.Deserialize<RunPayload>(_map.Apply(node, file), LedgerJson.Options);
            }
        }
        catch (JsonException e)
        {
            throw new RunDocumentException(file, "not a run in the ingest wire shape: " + e.Message);
        }

        if (run is null)
        {
            throw new RunDocumentException(file, "the document is null.");
        }

        return run.Id is null ? run with { Id = ContentId(bytes, run.StartedAt).ToString() } : run;
    }

    private static Guid ContentId(byte[] content, DateTimeOffset? startedAt)
    {
        Span<byte> bytes = stackalloc byte[32];
        SHA256.HashData(content, bytes);
        var millis = startedAt?.ToUnixTimeMilliseconds() ?? 0;
        Span<byte> time = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(time, Math.Max(0, millis));
        time[2..].CopyTo(bytes);
        bytes[6] = (byte)(0x70 | (bytes[6] & 0x0F));
        bytes[8] = (byte)(0x80 | (bytes[8] & 0x3F));
        return new Guid(bytes[..16], bigEndian: true);
    }
}
