using System.Security.Cryptography;
using System.Text;

namespace RunLedger.Core.Security;

/// <summary>
/// Makes and hashes key secrets. A secret is "rl_" followed by 32 random bytes in base64url;
/// only its SHA-256 is stored. SHA-256 (not a slow password hash) is right here because the
/// secret has 256 bits of entropy: there is nothing to brute-force.
/// </summary>
public static class ApiKeySecrets
{
    public const string SecretPrefix = "rl_";

    public static string NewSecret() =>
        SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    /// <summary>The first characters of a secret, shown in listings so a person can tell keys apart.</summary>
    public static string DisplayPrefix(string secret) => secret.Length <= 10 ? secret : secret[..10];

    public static bool IsWellFormed(string? secret) =>
        !string.IsNullOrWhiteSpace(secret) && secret.Length is >= 16 and <= 200 && !secret.Any(char.IsWhiteSpace);

    public static string FormatScopes(KeyScopes scopes)
    {
        var parts = new List<string>(3);
        if ((scopes & KeyScopes.Ingest) != 0)
        {
            parts.Add("ingest");
        }

        if ((scopes & KeyScopes.Read) != 0)
        {
            parts.Add("read");
        }

        if ((scopes & KeyScopes.Admin) != 0)
        {
            parts.Add("admin");
        }

        return string.Join(',', parts);
    }

    public static bool TryParseScopes(string? text, out KeyScopes scopes)
    {
        scopes = KeyScopes.None;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        foreach (var part in text.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            switch (part.ToUpperInvariant())
            {
                case "INGEST":
                    scopes |= KeyScopes.Ingest;
                    break;
                case "READ":
                    scopes |= KeyScopes.Read;
                    break;
                case "ADMIN":
                    scopes |= KeyScopes.Admin;
                    break;
                default:
                    return false;
            }
        }

        return scopes != KeyScopes.None;
    }

    public static string ToHex(byte[] hash) => Convert.ToHexStringLower(hash);

    internal static string Utf8(byte[] bytes) => Encoding.UTF8.GetString(bytes);
}
