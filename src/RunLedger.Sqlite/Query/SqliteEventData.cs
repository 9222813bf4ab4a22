using Microsoft.Data.Sqlite;
using RunLedger.Core.Storage;

namespace RunLedger.Sqlite.Query;

/// <summary>
/// An event's data as the API returns it, for SQL that reads it (free text over events): a run
/// event kept without its run's id and name (<see cref="RunEventTail"/>) gets them back from the
/// row's columns, with the same escaping as on every other read.
/// </summary>
internal static class SqliteEventData
{
    public const string FunctionName = "runledger_event_data";

    public static void Register(SqliteConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        connection.CreateFunction<string?, byte[]?, string?, string?>(
            FunctionName,
            (data, runId, name) => RunEventTail.Restore(data, runId is { Length: 16 } id ? StorageUnits.ToGuid(id) : null, name),
            isDeterministic: true);
    }

    /// <summary>The data of the events row <paramref name="alias"/>; the function is called only for a kept tail.</summary>
    public static string Of(string alias) =>
        $"(CASE WHEN {alias}.data GLOB ',*' THEN {FunctionName}({alias}.data, {alias}.run_id, {alias}.name) ELSE {alias}.data END)";
}
