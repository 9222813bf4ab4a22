using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace RunLedger.Postgres.Testing;

/// <summary>
/// A PostgreSQL server for tests: either a throwaway server started from the installed binaries
/// (<c>initdb</c> + <c>pg_ctl</c> in a temp directory, on a free 127.0.0.1 port, trust auth on
/// loopback, run as the <c>postgres</c> user when the tests run as root), or the existing server
/// whose connection string is in <see cref="EnvironmentVariable"/>.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    /// <summary>Names an existing server to use instead of starting one.</summary>
    public const string EnvironmentVariable = "RUNLEDGER_TEST_POSTGRES";

    /// <summary>The command that installs the server binaries on Debian and Ubuntu.</summary>
    public const string InstallCommand = "apt-get update && apt-get install -y postgresql postgresql-contrib";

    private const string SuperUser = "postgres";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    private readonly string? _binDirectory;
    private readonly string? _directory;
    private readonly NpgsqlConnectionStringBuilder _baseConnection;
    private readonly List<string> _createdDatabases = [];
    private readonly Lock _gate = new();
    private readonly bool _durable;
    private bool _running;

    private PostgresServer(string? binDirectory, string? directory, NpgsqlConnectionStringBuilder baseConnection, bool durable)
    {
        _binDirectory = binDirectory;
        _directory = directory;
        _baseConnection = baseConnection;
        _durable = durable;
    }

    /// <summary>True when the server was named by <see cref="EnvironmentVariable"/> rather than started here.</summary>
    public bool IsExternal => _directory is null;

    /// <summary>The TCP port the server listens on.</summary>
    public int Port => _baseConnection.Port;

    /// <summary>The process id of the throwaway server's postmaster (from <c>postmaster.pid</c>); null for an external server or when it is not running.</summary>
    public int? ProcessId
    {
        get
        {
            var file = _directory is null ? null : Path.Combine(DataDirectory, "postmaster.pid");
            if (file is null || !File.Exists(file))
            {
                return null;
            }

            using var reader = new StreamReader(new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
            return int.TryParse(reader.ReadLine(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
    }

    /// <summary>The server's log file (throwaway servers only).</summary>
    public string? LogPath => _directory is null ? null : Path.Combine(_directory, "postgres.log");

    private string DataDirectory => Path.Combine(_directory!, "data");

    /// <summary>
    /// Starts a throwaway server, or connects to the one named by <see cref="EnvironmentVariable"/>.
    /// Throws <see cref="InvalidOperationException"/> with the install command when the binaries are missing.
    /// </summary>
    public static Task<PostgresServer> StartAsync(CancellationToken cancellationToken = default) =>
        StartAsync(existing: null, durable: false, cancellationToken);

    /// <summary>
    /// Connects to <paramref name="existing"/> (a connection string) when given, else to the server named by
    /// <see cref="EnvironmentVariable"/>, else starts a throwaway server. A throwaway server runs with
    /// <c>fsync=off</c> for speed unless <paramref name="durable"/> is true (benchmarks measure commits
    /// that reach the disk, as a production server's do).
    /// </summary>
    public static async Task<PostgresServer> StartAsync(string? existing, bool durable, CancellationToken cancellationToken = default)
    {
        var external = string.IsNullOrWhiteSpace(existing) ? Environment.GetEnvironmentVariable(EnvironmentVariable) : existing;
        if (!string.IsNullOrWhiteSpace(external))
        {
            var builder = new NpgsqlConnectionStringBuilder(external);
            var server = new PostgresServer(null, null, builder, durable) { _running = true };
            await server.EnsureAcceptingAsync(cancellationToken).ConfigureAwait(false);
            return server;
        }

        var bin = FindBinDirectory();
        var directory = Path.Combine(Path.GetTempPath(), "runledger-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);
        var connection = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = FreePort(),
            Username = SuperUser,
            Database = "postgres",
            Pooling = true,
            Timeout = 15,
        };
        var started = new PostgresServer(bin, directory, connection, durable);
        try
        {
            if (RunningAsRoot)
            {
                await RunAsync("chown", ["-R", SuperUser + ":", directory], cancellationToken).ConfigureAwait(false);
            }

            await started.RunPostgresToolAsync(
                "initdb",
                ["-D", started.DataDirectory, "-U", SuperUser, "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"],
                cancellationToken).ConfigureAwait(false);
            await started.StartAgainAsync(cancellationToken).ConfigureAwait(false);
            return started;
        }
        catch
        {
            await started.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A connection string for <paramref name="database"/> on this server.</summary>
    public string ConnectionString(string database = "postgres")
    {
        var builder = new NpgsqlConnectionStringBuilder(_baseConnection.ConnectionString) { Database = database };
        return builder.ConnectionString;
    }

    /// <summary>Creates a fresh, empty database and returns its name; it is dropped when the server is disposed.</summary>
    public async Task<string> CreateDatabaseAsync(CancellationToken cancellationToken = default)
    {
        var name = "runledger_test_" + Guid.NewGuid().ToString("N");
        await using (var connection = new NpgsqlConnection(AdminConnectionString()))
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'", connection);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        lock (_gate)
        {
            _createdDatabases.Add(name);
        }

        return name;
    }

    /// <summary>
    /// Stops the throwaway server: <paramref name="immediate"/> kills it without a checkpoint, as a crash
    /// or a lost host would; otherwise it shuts down cleanly. Not possible on an external server.
    /// </summary>
    public async Task StopAsync(bool immediate = true, CancellationToken cancellationToken = default)
    {
        EnsureOwned();
        await RunPostgresToolAsync(
            "pg_ctl",
            ["-D", DataDirectory, "-m", immediate ? "immediate" : "fast", "-w", "-t", "60", "stop"],
            cancellationToken).ConfigureAwait(false);
        _running = false;
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>Starts the throwaway server (again) on the same port and waits until it accepts connections.</summary>
    public async Task StartAgainAsync(CancellationToken cancellationToken = default)
    {
        EnsureOwned();
        var options = string.Join(
            ' ',
            "-c listen_addresses=127.0.0.1",
            "-c port=" + Port.ToString(CultureInfo.InvariantCulture),
            "-c unix_socket_directories=" + _directory,
            "-c max_connections=300",
            _durable ? "-c fsync=on" : "-c fsync=off",
            _durable ? "-c full_page_writes=on" : "-c full_page_writes=off",
            "-c shared_buffers=128MB");
        await RunPostgresToolAsync(
            "pg_ctl",
            ["-D", DataDirectory, "-l", LogPath!, "-o", options, "-w", "-t", "60", "start"],
            cancellationToken).ConfigureAwait(false);
        _running = true;
        await EnsureAcceptingAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops the server and deletes its directory (or drops the databases created on an external server).</summary>
    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (IsExternal)
        {
            await DropCreatedDatabasesAsync().ConfigureAwait(false);
            return;
        }

        if (_running && Directory.Exists(DataDirectory))
        {
            try
            {
                await RunPostgresToolAsync("pg_ctl", ["-D", DataDirectory, "-m", "immediate", "-w", "stop"], CancellationToken.None).ConfigureAwait(false);
            }
            catch (InvalidOperationException)
            {
                // Already stopped; the directory is removed below either way.
            }
        }

        try
        {
            Directory.Delete(_directory!, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static bool RunningAsRoot => string.Equals(Environment.UserName, "root", StringComparison.Ordinal);

    private string AdminConnectionString() => ConnectionString(IsExternal ? _baseConnection.Database ?? "postgres" : "postgres");

    private void EnsureOwned()
    {
        if (IsExternal)
        {
            throw new InvalidOperationException($"The server named by {EnvironmentVariable} is not started by the tests, so they cannot stop or start it.");
        }
    }

    private async Task DropCreatedDatabasesAsync()
    {
        string[] names;
        lock (_gate)
        {
            names = [.. _createdDatabases];
        }

        if (names.Length == 0)
        {
            return;
        }

        try
        {
            await using var connection = new NpgsqlConnection(AdminConnectionString());
            await connection.OpenAsync().ConfigureAwait(false);
            foreach (var name in names)
            {
                await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
                await command.ExecuteNonQueryAsync().ConfigureAwait(false);
            }
        }
        catch (NpgsqlException)
        {
            // Cleanup of an external server is best effort.
        }
    }

    /// <summary>
    /// Opens one connection: <c>pg_ctl start -w</c> returns only once the server accepts them, and
    /// a server named by <see cref="EnvironmentVariable"/> must already be up.
    /// </summary>
    private async Task EnsureAcceptingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new NpgsqlConnection(AdminConnectionString() + ";Pooling=false");
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException e)
        {
            throw new InvalidOperationException($"The PostgreSQL server at {_baseConnection.Host}:{Port} does not accept connections: {e.Message}", e);
        }
    }

    private Task RunPostgresToolAsync(string tool, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var path = Path.Combine(_binDirectory!, tool);
        if (RunningAsRoot)
        {
            return RunAsync("runuser", ["-u", SuperUser, "--", path, .. arguments], cancellationToken);
        }

        return RunAsync(path, arguments, cancellationToken);
    }

    private static async Task RunAsync(string fileName, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(CommandTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{fileName} {string.Join(' ', arguments)} exited with {process.ExitCode.ToString(CultureInfo.InvariantCulture)}:{Environment.NewLine}{await output.ConfigureAwait(false)}{await error.ConfigureAwait(false)}");
        }
    }

    private static string FindBinDirectory()
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var initdb = Path.Combine(directory, "initdb");
            if (File.Exists(initdb) && File.Exists(Path.Combine(directory, "pg_ctl")) && File.Exists(Path.Combine(directory, "postgres")))
            {
                // Debian links the tools into the PATH; pg_ctl finds postgres next to its real location.
                var target = File.ResolveLinkTarget(initdb, returnFinalTarget: true);
                return target is null ? directory : Path.GetDirectoryName(target.FullName)!;
            }
        }

        const string Versions = "/usr/lib/postgresql";
        if (Directory.Exists(Versions))
        {
            var newest = Directory.GetDirectories(Versions)
                .Select(path => (Path: Path.Combine(path, "bin"), Version: ParseVersion(Path.GetFileName(path))))
                .Where(candidate => File.Exists(Path.Combine(candidate.Path, "initdb")) && File.Exists(Path.Combine(candidate.Path, "pg_ctl")))
                .OrderByDescending(candidate => candidate.Version)
                .FirstOrDefault();
            if (newest.Path is not null)
            {
                return newest.Path;
            }
        }

        throw new InvalidOperationException(
            $"PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found on PATH or under {Versions}/*/bin. "
            + $"Install them with: {InstallCommand} — or set {EnvironmentVariable} to the connection string of an existing server.");
    }

    private static double ParseVersion(string name) =>
        double.TryParse(name, NumberStyles.Float, CultureInfo.InvariantCulture, out var version) ? version : 0;

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
