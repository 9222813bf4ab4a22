using RunLedger.Core.Ingest;

namespace RunLedger.Core.Workload;

/// <summary>
/// Produces realistic, deterministic overnight agent traffic: sessions, nested run trees
/// (pipeline, agent steps, LLM/tool/retrieval calls) and custom events, as ingest requests.
/// The same <see cref="WorkloadOptions"/> always give the same requests, byte for byte.
/// </summary>
/// <remarks>
/// Requests come in three phases: every session first, then the runs (each parent before its
/// children, session by session in time order), then the events (in time order). Run and session
/// ids are UUIDv7 built from the start time and the seeded random generator, so they sort by
/// start time and repeat exactly; event idempotency keys repeat too, so sending the same
/// workload twice updates rather than duplicates.
/// </remarks>
public sealed class WorkloadGenerator
{
    private readonly WorkloadOptions _options;

    public WorkloadGenerator(WorkloadOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors), nameof(options));
        }

        _options = options;
    }

    /// <summary>The models the generator uses and the prices its costs are computed from.</summary>
    public static IReadOnlyList<ModelPrice> PriceTable => WorkloadCatalog.Models;

    /// <summary>
    /// The workload as ingest requests of at most <paramref name="batchSize"/> items each; a request
    /// holds only sessions, only runs or only events. Enumerating again starts over and repeats it.
    /// </summary>
    public IEnumerable<IngestRequest> Generate(int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        return Iterate(batchSize);
    }

    private IEnumerable<IngestRequest> Iterate(int batchSize)
    {
        // Fresh state on every enumeration, so enumerating twice gives the same requests twice.
        foreach (var request in new WorkloadSequence(_options).Produce(batchSize))
        {
            yield return request;
        }
    }
}
