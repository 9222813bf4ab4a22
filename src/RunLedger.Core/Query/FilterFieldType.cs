namespace RunLedger.Core.Query;

/// <summary>The type of a filter field: decides which values and operators it accepts.</summary>
public enum FilterFieldType
{
    /// <summary>A run id (UUID). <c>:</c> and <c>!=</c> only.</summary>
    Id,

    /// <summary>Text compared exactly (case-sensitive); <c>*</c> makes a wildcard pattern.</summary>
    String,

    /// <summary>One of a fixed set of lower-case names. <c>:</c> and <c>!=</c> only.</summary>
    Enum,

    /// <summary>A decimal number; every operator.</summary>
    Number,

    /// <summary>A duration such as <c>30s</c>; every operator.</summary>
    Duration,

    /// <summary>A relative (<c>-24h</c>) or absolute (<c>2026-11-01</c>) time; ordering operators only.</summary>
    Time,

    /// <summary>One element of the run's tag list; <c>*</c> allowed.</summary>
    Tag,

    /// <summary><c>metadata.&lt;key&gt;</c>: a number or a string; numbers compare numerically.</summary>
    Metadata,

    /// <summary><c>true</c> or <c>false</c>.</summary>
    Boolean,
}
