using System.Globalization;

namespace RunLedger.Core.Workload;

/// <summary>What <see cref="WorkloadGenerator"/> produces. The same options always give the same traffic.</summary>
public sealed class WorkloadOptions
{
    /// <summary>Seeds every random choice.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>When the night starts; sessions are spread over the eight hours that follow.</summary>
    public DateTimeOffset NightStart { get; init; } = new(2026, 11, 21, 22, 0, 0, TimeSpan.Zero);

    /// <summary>How many sessions (overnight batches) to produce.</summary>
    public int Sessions { get; init; } = 6;

    /// <summary>How many runs to produce in total; exact, split evenly over the sessions.</summary>
    public int TargetRuns { get; init; } = 500;

    /// <summary>The share of runs that fail or time out.</summary>
    public double FailureRate { get; init; } = 0.03;

    /// <summary>Every n-th LLM run gets an output larger than the default body limit (about 1.2 MiB); 0 for none.</summary>
    public int LargeBodyEvery { get; init; }

    /// <summary>Every problem with these options, all at once; empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Sessions < 1)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"Sessions must be at least 1 (was {Sessions})."));
        }

        if (TargetRuns < 0)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"TargetRuns must not be negative (was {TargetRuns})."));
        }

        if (double.IsNaN(FailureRate) || FailureRate is < 0 or > 1)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"FailureRate must be between 0 and 1 (was {FailureRate})."));
        }

        if (LargeBodyEvery < 0)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"LargeBodyEvery must not be negative (was {LargeBodyEvery})."));
        }

        return errors;
    }
}
