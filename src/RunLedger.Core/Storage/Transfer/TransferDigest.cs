using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace RunLedger.Core.Storage.Transfer;

/// <summary>
/// Content checksums of transfer records (SHA-256 of a canonical JSON form). A run's checksum
/// covers every column and the decoded text of its bodies (with their keys, original sizes and
/// truncation flags), not the encoded bytes, so two stores that compress differently still agree.
/// </summary>
public static class TransferDigest
{
    public static byte[] Of(TransferRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var canonical = record switch
        {
            RunRecord run => JsonSerializer.Serialize(new RunForm(run with { Input = null, Output = null }, Body(run.Input), Body(run.Output)), LedgerJson.Options),
            _ => JsonSerializer.Serialize(record, LedgerJson.Options),
        };
        return SHA256.HashData(Encoding.UTF8.GetBytes(canonical));
    }

    private static BodyForm? Body(PayloadRecord? payload) => payload is null
        ? null
        : new BodyForm(
            Convert.ToHexStringLower(payload.Key),
            payload.OriginalSize,
            payload.Truncated,
            TextSha256(payload));

    /// <summary>
    /// The SHA-256 of the decoded text; for a body that cannot be decoded (copied byte for byte,
    /// never re-encoded) the SHA-256 of its encoding and stored bytes, so a copy still compares equal.
    /// </summary>
    private static string TextSha256(PayloadRecord payload) => payload.TryDecodeText() is { } text
        ? Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))
        : "undecodable:" + Convert.ToHexStringLower(SHA256.HashData([(byte)payload.Encoding, .. payload.Data]));

    private sealed record RunForm(RunRecord Run, BodyForm? Input, BodyForm? Output);

    private sealed record BodyForm(string Key, long OriginalSize, bool Truncated, string TextSha256);
}
