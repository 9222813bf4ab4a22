namespace RunLedger.Benchmarks;

/// <summary>A fresh directory under the system temp folder, deleted on dispose unless RUNLEDGER_BENCH_KEEP=1.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory(string label)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "runledger-bench-" + label + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public long SizeOf(params string[] names) => names
        .Select(n => System.IO.Path.Combine(Path, n))
        .Where(File.Exists)
        .Sum(f => new FileInfo(f).Length);

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("RUNLEDGER_BENCH_KEEP") == "1")
        {
            Console.WriteLine("  kept " + Path);
            return;
        }

        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp directory does not change a result.
        }
    }
}
