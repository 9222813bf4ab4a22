using Microsoft.Data.Sqlite;
using RunLedger.Core.Storage;

namespace RunLedger.Sqlite.Query;

/// <summary>
/// An event's data as the API returns it, for SQL that reads it (free text over events): a packed
/// run event (<see cref="SqliteRunEvents"/>) is made into its JSON, with the run's id and name from
/// the row's columns, as on every other read.
/// </summary>
internal static class SqliteEventData
{
    public const string FunctionName = "runledger_event_data";

    public static void Register(SqliteConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        connection.CreateFunction<object, byte[]?, string?, string?>(
            FunctionName,
            (data, runId, name) => SqliteRunEvents.TypeAndData(string.Empty, data, runId is { Length: 16 } id ? StorageUnits.ToGuid(id) : null, name).Data,
            isDeterministic: true);
    }

    /// <summary>
    /// The data of the events row <paramref name="alias"/>; the function is called only for a
    /// packed run event, or one kept without its run's id and name (a process of schemas 9 to 11).
    /// </summary>
    public static string Of(string alias) =>
        $"(CASE WHEN typeof({alias}.data) = 'blob' OR {alias}.data GLOB ',*' THEN {FunctionName}({alias}.data, {alias}.run_id, {alias}.name) ELSE {alias}.data END)";
}
