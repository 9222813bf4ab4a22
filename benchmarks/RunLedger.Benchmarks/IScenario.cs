namespace RunLedger.Benchmarks;

/// <summary>One benchmark scenario: runs its contenders and returns the report.</summary>
internal interface IScenario
{
    string Name { get; }

    string Description { get; }

    Task<ScenarioReport> RunAsync(BenchmarkArguments arguments, CancellationToken cancellationToken);
}
