using RunLedger.Core.Model;

namespace RunLedger.Core.Query;

/// <summary>
/// The field catalogue of the filter language: which fields each target has, their type and
/// their aliases. Field names are matched case-insensitively; the AST always holds
/// <see cref="FilterField.Name"/>.
/// </summary>
public static class FilterFields
{
    /// <summary>The values of the runs-only <c>is:</c> field.</summary>
    public static IReadOnlyList<string> IsValues { get; } = ["root", "pinned", "error"];

    private static readonly FilterField[] RunFields =
    [
        Field("id", FilterFieldType.Id, "The run id.", "id:0192f0c4-6d2a-7cc1-9a3e-55b1f2a0c001", "run", "run_id"),
        Field("session", FilterFieldType.String, "The session id.", "session:nightly-2026-11-01", "session_id"),
        Field("parent", FilterFieldType.Id, "The parent run id.", "parent:0192f0c4-6d2a-7cc1-9a3e-55b1f2a0c001", "parent_id"),
        Enum("kind", WireNames.Kinds, "What the run is.", "kind:llm"),
        Enum("status", WireNames.Statuses, "How the run ended (or running).", "status:failed"),
        Field("name", FilterFieldType.String, "The prompt, tool, spec or pipeline name.", "name:summarize*"),
        Field("model", FilterFieldType.String, "The model.", "model:gpt-4o*"),
        Field("provider", FilterFieldType.String, "The model provider.", "provider:openai"),
        Field("user", FilterFieldType.String, "The user id.", "user:alice", "user_id"),
        Field("source", FilterFieldType.String, "How the run arrived (api, sdk, otlp, cli, import).", "source:otlp"),
        Field("tag", FilterFieldType.Tag, "One of the run's tags.", "tag:nightly", "tags"),
        Field("metadata", FilterFieldType.Metadata, "A metadata value: metadata.<key>.", "metadata.repository:\"acme/web\"", "meta", "md"),
        Field("cost", FilterFieldType.Number, "Cost in US dollars.", "cost<0.01", "cost_usd"),
        Field("input_tokens", FilterFieldType.Number, "Input (prompt) tokens.", "input_tokens>1000", "prompt_tokens"),
        Field("output_tokens", FilterFieldType.Number, "Output (completion) tokens.", "output_tokens>500", "completion_tokens"),
        Field("total_tokens", FilterFieldType.Number, "Input plus output tokens.", "tokens>=10000", "tokens"),
        Field("cached_tokens", FilterFieldType.Number, "Input tokens served from a cache.", "cached_tokens>0"),
        Field("reasoning_tokens", FilterFieldType.Number, "Reasoning tokens.", "reasoning_tokens>0"),
        Field("duration", FilterFieldType.Duration, "Wall-clock duration.", "duration>30s", "latency"),
        Field("started", FilterFieldType.Time, "When the run started.", "started>-24h", "started_at", "start"),
        Field("ended", FilterFieldType.Time, "When the run ended.", "ended<2026-11-01", "ended_at", "end"),
        Field("error", FilterFieldType.String, "Error type or error message.", "error:*timeout*"),
        Field("error_type", FilterFieldType.String, "Error type.", "error_type:RateLimitError"),
        Field("pinned", FilterFieldType.Boolean, "Whether the run is pinned.", "pinned:true"),
        new FilterField("is", FilterFieldType.Enum, [], IsValues, "root: has no parent; pinned; error: failed or timeout.", "is:root"),
    ];

    private static readonly FilterField[] EventFields =
    [
        Field("id", FilterFieldType.Number, "The event id (monotonic).", "id>1000"),
        Field("type", FilterFieldType.String, "The event type.", "type:run.*"),
        Field("session", FilterFieldType.String, "The session id.", "session:nightly-2026-11-01", "session_id"),
        Field("run", FilterFieldType.Id, "The run id.", "run:0192f0c4-6d2a-7cc1-9a3e-55b1f2a0c001", "run_id"),
        Field("name", FilterFieldType.String, "The event name.", "name:approval"),
        Field("time", FilterFieldType.Time, "When the event happened.", "time>-1h", "at"),
    ];

    private static readonly FilterField[] SessionFields =
    [
        Field("id", FilterFieldType.String, "The session id.", "id:nightly-2026-11-01", "session", "session_id"),
        Field("name", FilterFieldType.String, "The session name.", "name:nightly*"),
        Enum("state", SessionStates.All, "The session state.", "state:active"),
        Field("started", FilterFieldType.Time, "When the session started.", "started>-7d", "started_at", "start"),
        Field("ended", FilterFieldType.Time, "When the session ended.", "ended<-1d", "ended_at", "end"),
        Field("cost", FilterFieldType.Number, "Total cost in US dollars.", "cost>1.5", "cost_usd"),
        Field("runs", FilterFieldType.Number, "Number of runs.", "runs>100", "run_count"),
        Field("failed", FilterFieldType.Number, "Number of failed or timed-out runs.", "failed>0", "failed_count"),
        Field("input_tokens", FilterFieldType.Number, "Total input tokens.", "input_tokens>100000"),
        Field("output_tokens", FilterFieldType.Number, "Total output tokens.", "output_tokens>100000"),
        Field("metadata", FilterFieldType.Metadata, "A metadata value: metadata.<key>.", "metadata.persona:buyer", "meta", "md"),
    ];

    /// <summary>The fields of a target, in documentation order.</summary>
    public static IReadOnlyList<FilterField> For(FilterTarget target) => target switch
    {
        FilterTarget.Runs => RunFields,
        FilterTarget.Events => EventFields,
        FilterTarget.Sessions => SessionFields,
        _ => throw new ArgumentOutOfRangeException(nameof(target), target, "Unknown filter target."),
    };

    /// <summary>Finds a field by canonical name or alias (case-insensitive); null when unknown.</summary>
    public static FilterField? Find(FilterTarget target, string name)
    {
        foreach (var field in For(target))
        {
            if (string.Equals(field.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return field;
            }

            foreach (var alias in field.Aliases)
            {
                if (string.Equals(alias, name, StringComparison.OrdinalIgnoreCase))
                {
                    return field;
                }
            }
        }

        return null;
    }

    /// <summary>Lower-case name of a target for messages ("runs", "events", "sessions").</summary>
    public static string Describe(FilterTarget target) => target switch
    {
        FilterTarget.Runs => "runs",
        FilterTarget.Events => "events",
        FilterTarget.Sessions => "sessions",
        _ => throw new ArgumentOutOfRangeException(nameof(target), target, "Unknown filter target."),
    };

    private static FilterField Field(string name, FilterFieldType type, string description, string example, params string[] aliases) =>
        new(name, type, aliases, [], description, example);

    private static FilterField Enum(string name, IReadOnlyList<string> values, string description, string example) =>
        new(name, FilterFieldType.Enum, [], values, description, example);
}
