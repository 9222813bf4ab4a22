using System.Globalization;
using System.Text.Json;
using RunLedger.Core;
using RunLedger.Core.Ingest;

namespace RunLedger.Benchmarks;

/// <summary>
/// A run as one flat row with its bodies as TEXT: the row shape the raw SQLite and EF Core
/// baselines store. Built before timing starts.
/// </summary>
internal sealed class FlatRun
{
    public string Id { get; set; } = "";

    public string? SessionId { get; set; }

    public string? ParentId { get; set; }

    public string? Kind { get; set; }

    public string? Name { get; set; }

    public string? Status { get; set; }

    public string? StartedAt { get; set; }

    public string? EndedAt { get; set; }

    public string? Model { get; set; }

    public string? Provider { get; set; }

    public string? Parameters { get; set; }

    public string? Input { get; set; }

    public string? Output { get; set; }

    public string? Error { get; set; }

    public long? InputTokens { get; set; }

    public long? OutputTokens { get; set; }

    public double? CostUsd { get; set; }

    public string? Tags { get; set; }

    public string? Metadata { get; set; }

    public string? UserId { get; set; }

    public static FlatRun From(RunPayload run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return new FlatRun
        {
            Id = run.Id ?? Guid.NewGuid().ToString(),
            SessionId = run.SessionId,
            ParentId = run.ParentId,
            Kind = run.Kind,
            Name = run.Name,
            Status = run.Status,
            StartedAt = run.StartedAt?.ToString("O", CultureInfo.InvariantCulture),
            EndedAt = run.EndedAt?.ToString("O", CultureInfo.InvariantCulture),
            Model = run.Model,
            Provider = run.Provider,
            Parameters = run.Parameters?.Text,
            Input = run.Input?.Text,
            Output = run.Output?.Text,
            Error = run.Error is null ? null : JsonSerializer.Serialize(run.Error, LedgerJson.Options),
            InputTokens = run.Usage?.InputTokens,
            OutputTokens = run.Usage?.OutputTokens,
            CostUsd = run.CostUsd is { } cost ? (double)cost : null,
            Tags = run.Tags is null ? null : JsonSerializer.Serialize(run.Tags, LedgerJson.Options),
            Metadata = run.Metadata?.Text,
            UserId = run.UserId,
        };
    }
}
