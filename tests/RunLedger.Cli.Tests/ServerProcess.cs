using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace RunLedger.Cli.Tests;

/// <summary>
/// <c>runledger serve</c> as a real child process on 127.0.0.1, so a test can kill it (SIGKILL)
/// at any moment and start it again on the same data directory.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    public const string AdminKey = "rl_crash-test-admin-key-0123456789";

    private readonly Process _process;

    private ServerProcess(Process process, string url)
    {
        _process = process;
        Url = url;
    }

    public string Url { get; }

    public static async Task<ServerProcess> StartAsync(string dataDirectory, int port, params string[] settings)
    {
        var url = $"http://127.0.0.1:{port}";
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "runledger.dll"));
        start.ArgumentList.Add("serve");
        start.ArgumentList.Add("--data");
        start.ArgumentList.Add(dataDirectory);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(url);
        foreach (var setting in settings)
        {
            start.ArgumentList.Add("--" + setting);
        }

        start.Environment["RUNLEDGER_BOOTSTRAP_KEY"] = AdminKey;
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");

        // The host logs "Application started" once Kestrel listens; the process ending first is a failure.
        var started = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                started.TrySetResult(false);
            }
            else if (e.Data.Contains("Application started", StringComparison.Ordinal))
            {
                started.TrySetResult(true);
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var server = new ServerProcess(process, url);
        bool ready;
        try
        {
            ready = await started.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            await server.DisposeAsync();
            throw new TimeoutException("runledger serve was not ready within 60 s.");
        }

        if (!ready)
        {
            await server.DisposeAsync();
            throw new InvalidOperationException("runledger serve exited before it was ready.");
        }

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await client.GetAsync(url + "/readyz");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return server;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>SIGKILL: no shutdown code runs, exactly like a crash or a power cut of the process.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.WaitForExit(10_000);
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
