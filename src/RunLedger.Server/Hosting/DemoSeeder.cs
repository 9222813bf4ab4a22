using Microsoft.Extensions.Logging;
using RunLedger.Core.Ingest;
using RunLedger.Core.Storage;
using RunLedger.Core.Workload;

namespace RunLedger.Server.Hosting;

/// <summary><c>serve --demo</c>: writes a realistic overnight workload when the default project is empty.</summary>
internal sealed class DemoSeeder(ILedgerStore store, IngestPipeline pipeline, IngestOptions options, TimeProvider time, ILogger<DemoSeeder> logger)
{
    public async Task RunAsync(int runs, CancellationToken cancellationToken)
    {
        var project = await store.Admin.GetOrCreateProjectAsync(KeyBootstrapper.DefaultProject, cancellationToken).ConfigureAwait(false);
        var existing = await store.Reader.QueryRunsAsync(project.Id, new RunQuery(null, 1, null), cancellationToken).ConfigureAwait(false);
        if (existing.Items.Count > 0)
        {
            return;
        }

        var now = time.GetUtcNow();
        var nightStart = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero).AddHours(-10);
        var generator = new WorkloadGenerator(new WorkloadOptions { Seed = 1, NightStart = nightStart, TargetRuns = runs, Sessions = 6 });
        var validator = new IngestValidator(options);
        var sessions = 0;
        foreach (var request in generator.Generate(500))
        {
            sessions += request.Sessions?.Count ?? 0;
            var validated = validator.Validate(request, project.Id, "demo", time.GetUtcNow());
            await pipeline.SubmitAsync(validated.Batch, cancellationToken).ConfigureAwait(false);
        }

        Log.DemoWritten(logger, runs, sessions);
    }
}
