using System.Text.Json.Serialization;

namespace RunLedger.Core.Storage.Transfer;

/// <summary>
/// One record of a store's content as it moves between stores, verbatim: ids, times
/// (microseconds since the Unix epoch, UTC), costs (nano-dollars) and stored bodies exactly as
/// the source holds them. Records name their project by name, so ids need not match between stores.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "record")]
[JsonDerivedType(typeof(ProjectRecord), "project")]
[JsonDerivedType(typeof(ApiKeyRecord), "key")]
[JsonDerivedType(typeof(SessionRecord), "session")]
[JsonDerivedType(typeof(RunRecord), "run")]
[JsonDerivedType(typeof(EventRecord), "event")]
[JsonDerivedType(typeof(RollupRecord), "rollup")]
[JsonDerivedType(typeof(RollupRangeRecord), "rollupRange")]
public abstract record TransferRecord;
