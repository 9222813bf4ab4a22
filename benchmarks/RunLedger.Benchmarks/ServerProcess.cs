using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;

namespace RunLedger.Benchmarks;

/// <summary>
/// <c>runledger serve</c> as its own process (the built CLI, started with <c>dotnet runledger.dll</c>),
/// so its resident memory is the server's alone. Reads VmRSS and VmHWM from /proc.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    public const string Key = "rl_benchmark_key_0123456789abcdef";

    private readonly Process _process;

    private ServerProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    public Uri Address { get; }

    public int Id => _process.Id;

    /// <summary>Builds the CLI in Release (a no-op when it is up to date) and returns runledger.dll.</summary>
    public static string BuildCli()
    {
        var root = Path.GetDirectoryName(Path.GetDirectoryName(ResultWriter.ResultsDirectory()))!;
        var project = Path.Combine(root, "src", "RunLedger.Cli", "RunLedger.Cli.csproj");
        Console.WriteLine("  building src/RunLedger.Cli (Release)...");
        using (var build = Process.Start(new ProcessStartInfo("dotnet", ["build", project, "-c", "Release", "-nologo", "-v", "quiet"]) { RedirectStandardOutput = true })!)
        {
            var output = build.StandardOutput.ReadToEnd();
            build.WaitForExit();
            if (build.ExitCode != 0)
            {
                throw new InvalidOperationException("Building the CLI failed:\n" + output);
            }
        }

        var dll = Path.Combine(root, "src", "RunLedger.Cli", "bin", "Release", "net10.0", "runledger.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException("The built CLI is missing.", dll);
    }

    public static async Task<ServerProcess> StartAsync(string cliDll, string dataDirectory, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken)
    {
        var port = FreePort();
        var info = new ProcessStartInfo("dotnet", [cliDll, "serve", "--data", dataDirectory, "--urls", string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["RUNLEDGER_BOOTSTRAP_KEY"] = Key;
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line)
            {
                Console.Error.WriteLine("  server: " + line);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerProcess(process, new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}")));
        using var probe = new HttpClient { BaseAddress = server.Address };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"runledger serve exited with code {process.ExitCode} before answering."));
            }

            try
            {
                using var response = await probe.GetAsync(new Uri("/healthz", UriKind.Relative), cancellationToken).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return server;
                }
            }
            catch (HttpRequestException) when (deadline.Elapsed < TimeSpan.FromSeconds(60))
            {
                // Not listening yet.
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    public HttpClient CreateClient()
    {
        var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 }) { BaseAddress = Address, Timeout = TimeSpan.FromMinutes(5) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        return client;
    }

    /// <summary>A value in kB from /proc/&lt;pid&gt;/status (VmRSS, VmHWM), or 0 when the process is gone.</summary>
    public long StatusKilobytes(string field)
    {
        try
        {
            foreach (var line in File.ReadLines(string.Create(CultureInfo.InvariantCulture, $"/proc/{_process.Id}/status")))
            {
                if (line.StartsWith(field + ":", StringComparison.Ordinal))
                {
                    return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
            // The process is gone.
        }

        return 0;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }

        _process.Dispose();
    }
}
