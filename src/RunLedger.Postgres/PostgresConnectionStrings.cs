using System.Globalization;
using Npgsql;

namespace RunLedger.Postgres;

/// <summary>
/// Turns what a user gives (an Npgsql connection string or a <c>postgres://</c> URL) into a
/// connection string, and describes it without the password.
/// </summary>
public static class PostgresConnectionStrings
{
    /// <summary>
    /// A connection string for <paramref name="location"/>: a <c>postgres://user:password@host:port/database?sslmode=require</c>
    /// URL (parts percent-decoded, query parameters become connection-string keywords) or a connection string as is.
    /// </summary>
    /// <exception cref="FormatException">The text is neither, with what is wrong.</exception>
    public static string Normalize(string location)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(location);
        var text = location.Trim();
        if (!text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) && !text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                return new NpgsqlConnectionStringBuilder(text).ConnectionString;
            }
            catch (ArgumentException ex)
            {
                throw new FormatException($"Not a PostgreSQL connection string: {ex.Message}", ex);
            }
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new FormatException("Not a PostgreSQL URL; write it as postgres://user:password@host:5432/database.");
        }

        var builder = new NpgsqlConnectionStringBuilder { Host = uri.Host.Trim('[', ']') };
        if (uri.Port > 0)
        {
            builder.Port = uri.Port;
        }

        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            builder.Username = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            if (colon >= 0)
            {
                builder.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
            }
        }

        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length > 0)
        {
            builder.Database = database;
        }

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = pair.Split('=', 2);
            var key = Uri.UnescapeDataString(parts[0]);
            var value = parts.Length == 2 ? Uri.UnescapeDataString(parts[1].Replace('+', ' ')) : string.Empty;
            try
            {
                builder[UrlKeyword(key)] = value;
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException)
            {
                throw new FormatException($"PostgreSQL URL parameter '{key}={value}' is not understood: {ex.Message}", ex);
            }
        }

        return builder.ConnectionString;
    }

    /// <summary>host:port/database and user, never the password.</summary>
    public static string Describe(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return string.Create(
            CultureInfo.InvariantCulture,
            $"postgres://{(string.IsNullOrEmpty(builder.Username) ? string.Empty : builder.Username + "@")}{builder.Host}:{builder.Port}/{builder.Database}");
    }

    /// <summary>libpq URL parameter names that differ from Npgsql's keywords.</summary>
    private static string UrlKeyword(string key) => key.ToLowerInvariant() switch
    {
        "sslmode" => "SSL Mode",
        "sslcert" => "SSL Certificate",
        "sslkey" => "SSL Key",
        "sslpassword" => "SSL Password",
        "sslrootcert" => "Root Certificate",
        "connect_timeout" => "Timeout",
        "application_name" => "Application Name",
        "target_session_attrs" => "Target Session Attributes",
        "options" => "Options",
        _ => key,
    };
}
