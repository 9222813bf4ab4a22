using System.Globalization;
using System.Runtime.InteropServices;

namespace RunLedger.Benchmarks;

/// <summary>The machine a result was measured on.</summary>
internal sealed record MachineInfo(int Cores, long MemoryBytes, string Runtime, string Os)
{
    public static MachineInfo Current() => new(
        Environment.ProcessorCount,
        GC.GetGCMemoryInfo().TotalAvailableMemoryBytes,
        RuntimeInformation.FrameworkDescription,
        RuntimeInformation.OSDescription);

    public string Describe() => string.Create(
        CultureInfo.InvariantCulture,
        $"{Cores} cores, {MemoryBytes / (1024.0 * 1024 * 1024):0.0} GiB, {Runtime}, {Os}");
}
