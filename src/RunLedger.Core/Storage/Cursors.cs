using System.Buffers.Binary;
using System.Text;
using RunLedger.Core.Model;

namespace RunLedger.Core.Storage;

/// <summary>
/// Opaque keyset cursors: the sort key of the last item of a page (a time in microseconds and
/// an id), in base64url. A cursor never holds an offset, so pages neither repeat nor skip items
/// while new ones arrive.
/// </summary>
public static class Cursors
{
    /// <summary>
    /// The time a sessions-listing cursor holds for a session without a start time. Such sessions
    /// come after every session with one (by id, descending), so the next page must know the
    /// cursor is among them; epoch 0 would be a real time.
    /// </summary>
    public const long NoStartTime = long.MinValue;

    /// <summary>A sessions-listing cursor after <paramref name="session"/> (start time descending, then id).</summary>
    public static string EncodeSession(Session session)
    {
        ArgumentNullException.ThrowIfNull(session);
        return Encode(session.StartedAt is { } started ? StorageUnits.ToMicros(started) : NoStartTime, Encoding.UTF8.GetBytes(session.Id));
    }

    public static string Encode(long time, ReadOnlySpan<byte> id)
    {
        var buffer = new byte[1 + 8 + id.Length];
        buffer[0] = 1;
        BinaryPrimitives.WriteInt64BigEndian(buffer.AsSpan(1), time);
        id.CopyTo(buffer.AsSpan(9));
        return Convert.ToBase64String(buffer).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>Decodes a cursor; throws <see cref="FormatException"/> with a message a person can act on.</summary>
    public static (long Time, byte[] Id) Decode(string cursor)
    {
        ArgumentNullException.ThrowIfNull(cursor);
        byte[] buffer;
        try
        {
            var base64 = cursor.Replace('-', '+').Replace('_', '/');
            base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
            buffer = Convert.FromBase64String(base64);
        }
        catch (FormatException)
        {
            throw new FormatException("cursor: not a cursor this server made; pass back the nextCursor of the previous page unchanged.");
        }

        if (buffer.Length < 10 || buffer[0] != 1)
        {
            throw new FormatException("cursor: not a cursor this server made; pass back the nextCursor of the previous page unchanged.");
        }

        return (BinaryPrimitives.ReadInt64BigEndian(buffer.AsSpan(1)), buffer[9..]);
    }

    /// <summary>
    /// Decodes a cursor into a position among runs (start time, 16-byte run id); a cursor of
    /// another listing (a session id) or of the wrong length throws <see cref="FormatException"/>
    /// in every store alike.
    /// </summary>
    public static (long Time, byte[] Id) DecodeRun(string cursor)
    {
        var (time, id) = Decode(cursor);
        if (id.Length != 16)
        {
            throw new FormatException("cursor: not a cursor of a runs listing; pass back the nextCursor of the previous page unchanged.");
        }

        return (time, id);
    }
}
