using Microsoft.EntityFrameworkCore;

namespace RunLedger.Benchmarks;

/// <summary>EF Core the way an application often does it: Add + SaveChanges per run, on SQLite (WAL, synchronous=FULL).</summary>
internal static class EfCoreIngest
{
    public static IngestResult Run(IReadOnlyList<FlatRun> runs, string directory, bool extrapolated)
    {
        using var connection = RawSqliteIngest.Open(Path.Combine(directory, "ef.db"));
        var options = new DbContextOptionsBuilder<RunsContext>().UseSqlite(connection).Options;
        using (var setup = new RunsContext(options))
        {
            setup.Database.EnsureCreated();
        }

        using var context = new RunsContext(options);
        context.ChangeTracker.AutoDetectChangesEnabled = true;
        var clock = CpuClock.StartNew();
        foreach (var run in runs)
        {
            context.Runs.Add(Copy(run));
            context.SaveChanges();
            context.ChangeTracker.Clear();
        }

        return new IngestResult("EF Core SaveChanges per run", 1, runs.Count, clock.Elapsed, extrapolated, clock.Cpu);
    }

    // A fresh entity per save, as an application would build one from a request.
    private static FlatRun Copy(FlatRun run) => new()
    {
        Id = run.Id,
        SessionId = run.SessionId,
        ParentId = run.ParentId,
        Kind = run.Kind,
        Name = run.Name,
        Status = run.Status,
        StartedAt = run.StartedAt,
        EndedAt = run.EndedAt,
        Model = run.Model,
        Provider = run.Provider,
        Parameters = run.Parameters,
        Input = run.Input,
        Output = run.Output,
        Error = run.Error,
        InputTokens = run.InputTokens,
        OutputTokens = run.OutputTokens,
        CostUsd = run.CostUsd,
        Tags = run.Tags,
        Metadata = run.Metadata,
        UserId = run.UserId,
    };
}

/// <summary>A minimal context with one runs table.</summary>
internal sealed class RunsContext(DbContextOptions<RunsContext> options) : DbContext(options)
{
    public DbSet<FlatRun> Runs => Set<FlatRun>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<FlatRun>(run =>
        {
            run.ToTable("runs");
            run.HasKey(r => r.Id);
        });
    }
}
