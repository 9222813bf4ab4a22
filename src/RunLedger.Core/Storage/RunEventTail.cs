using System.Text.Json;

namespace RunLedger.Core.Storage;

/// <summary>
/// The data of the events the ledger writes for a run (run.started, run.completed, run.failed,
/// ...) without the run's id and name, which an event row holds in its own columns, and how the full
/// data is made again, byte for byte (<see cref="RunMerge.RunEventData"/> builds the data this way;
/// the SQLite store of schemas 9 to 11 kept this form, which its schema 12 converts).
/// <para>
/// The full data is <c>{"id":"RUN-ID","name":"NAME",REST}</c> (<c>"name"</c> left out when the run
/// has none); the kept form ("the tail") is <c>,REST</c>: the object of the remaining fields, with
/// its opening brace turned into a comma. No JSON value starts with a comma, so data a client sent (always one JSON value) is
/// never taken for a tail and is always returned exactly as it was stored.
/// </para>
/// </summary>
public static class RunEventTail
{
    /// <summary>The first byte of a tail.</summary>
    public const byte Mark = (byte)',';

    /// <summary>Turns the object of a run event's fields without id and name into its tail, in place.</summary>
    public static void MakeTail(Span<byte> utf8Object)
    {
        if (utf8Object.Length < 2 || utf8Object[0] != (byte)'{' || utf8Object[1] != (byte)'"')
        {
            throw new ArgumentException("A run event's data without id and name is a JSON object with at least one field.", nameof(utf8Object));
        }

        utf8Object[0] = Mark;
    }

    /// <summary>True when <paramref name="stored"/> is a tail, not a JSON value.</summary>
    public static bool IsTail(string? stored) => stored is { Length: > 0 } && stored[0] == (char)Mark;

    /// <summary>
    /// The data as it was before the id and name were taken out: stored data that is not a tail (or
    /// an event without a run) is returned as it is.
    /// </summary>
    public static string? Restore(string? stored, Guid? runId, string? name)
    {
        if (!IsTail(stored) || runId is not { } id)
        {
            return stored;
        }

        // The id as the serializer writes a Guid ("D"), the name with the same escaping (the
        // encoder of LedgerJson.Options, which the full data is written with).
        return name is null
            ? string.Concat("{\"id\":\"", id.ToString("D"), "\"", stored)
            : string.Concat("{\"id\":\"", id.ToString("D"), "\",\"name\":\"", JsonEncodedText.Encode(name, LedgerJson.Options.Encoder).Value, "\"", stored);
    }
}
