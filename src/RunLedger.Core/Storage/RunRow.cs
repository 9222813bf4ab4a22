using RunLedger.Core.Model;

namespace RunLedger.Core.Storage;

/// <summary>
/// A run as the stores keep it (times in microseconds, cost in nano-dollars, bodies by hash or by payload row), the
/// shape the writers merge writes into and the readers turn into a <see cref="Model.Run"/>.
/// </summary>
public sealed class RunRow
{
    /// <summary>The store's own row key (SQLite: the rowid the full-text index refers to); 0 when it has none.</summary>
    public long Seq { get; set; }

    public Guid Id { get; set; }

    public string? SessionId { get; set; }

    public Guid? ParentId { get; set; }

    public string Kind { get; set; } = "custom";

    public string? Name { get; set; }

    public string Status { get; set; } = "running";

    public long StartedAt { get; set; }

    public long? EndedAt { get; set; }

    public long? DurationUs => EndedAt is { } ended ? Math.Max(0, ended - StartedAt) : null;

    public string? Model { get; set; }

    public string? Provider { get; set; }

    /// <summary>The parameters' JSON text; made from <see cref="ParametersJson"/> when first read.</summary>
    public string? Parameters
    {
        get => _parameters ??= _parametersJson?.Text;
        set
        {
            _parameters = value;
            _parametersJson = null;
        }
    }

    /// <summary>
    /// The parameters as a write sent them (<see cref="RunMerge.Merge"/> sets them so), or null
    /// when the row holds them as text only. A store binds their UTF-8 when the value holds it
    /// (<see cref="RawJson.TryGetUtf8"/>): the JSON of a request then never becomes a string.
    /// </summary>
    public RawJson? ParametersJson
    {
        get => _parametersJson;
        set
        {
            _parametersJson = value;
            _parameters = null;
        }
    }

    private string? _parameters;
    private RawJson? _parametersJson;

    public byte[]? InputHash { get; set; }

    public byte[]? OutputHash { get; set; }

    /// <summary>The input body's row in a store that refers to bodies by row id (SQLite) instead of by <see cref="InputHash"/>.</summary>
    public long? InputPayload { get; set; }

    /// <summary>The output body's row in a store that refers to bodies by row id (SQLite) instead of by <see cref="OutputHash"/>.</summary>
    public long? OutputPayload { get; set; }

    public string? ErrorType { get; set; }

    public string? ErrorMessage { get; set; }

    public string? ErrorStack { get; set; }

    public long? InputTokens { get; set; }

    public long? OutputTokens { get; set; }

    public long? CachedTokens { get; set; }

    public long? ReasoningTokens { get; set; }

    public long TotalTokens => (InputTokens ?? 0) + (OutputTokens ?? 0);

    public long? CostNanos { get; set; }

    public string? Tags { get; set; }

    /// <summary>The metadata's JSON text; made from <see cref="MetadataJson"/> when first read.</summary>
    public string? Metadata
    {
        get => _metadata ??= _metadataJson?.Text;
        set
        {
            _metadata = value;
            _metadataJson = null;
        }
    }

    /// <summary>The metadata as a write sent them, as <see cref="ParametersJson"/> is for the parameters.</summary>
    public RawJson? MetadataJson
    {
        get => _metadataJson;
        set
        {
            _metadataJson = value;
            _metadata = null;
        }
    }

    private string? _metadata;
    private RawJson? _metadataJson;

    public string? UserId { get; set; }

    public string Source { get; set; } = "api";

    public bool Pinned { get; set; }

    public long CreatedAt { get; set; }

    public long UpdatedAt { get; set; }

    public RunRow Clone() => (RunRow)MemberwiseClone();
}
