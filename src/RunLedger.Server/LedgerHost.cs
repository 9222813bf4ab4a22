using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RunLedger.Core;
using RunLedger.Core.Ingest;
using RunLedger.Core.Payloads;
using RunLedger.Core.Storage;
using RunLedger.Postgres;
using RunLedger.Server.Auth;
using RunLedger.Server.Endpoints;
using RunLedger.Server.Hosting;
using RunLedger.Sqlite;

namespace RunLedger.Server;

/// <summary>
/// Builds and starts the RunLedger web application. <c>runledger serve</c>, the tests and the
/// benchmarks all host the server through this class, in-process.
/// </summary>
public static class LedgerHost
{
    /// <summary>Builds the application with every option read from configuration and validated together.</summary>
    public static WebApplication Build(ServerOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = [.. options.Arguments],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.UseUrls(options.Urls);
        configure?.Invoke(builder);

        var configuration = builder.Configuration;
        var ingest = configuration.GetSection(IngestOptions.Section).Get<IngestOptions>() ?? new IngestOptions();
        var payloads = configuration.GetSection("RunLedger:Payloads").Get<PayloadOptions>() ?? new PayloadOptions();
        var sqlite = configuration.GetSection(SqliteStoreOptions.Section).Get<SqliteStoreOptions>() ?? new SqliteStoreOptions();
        var stream = configuration.GetSection(StreamSettings.Section).Get<StreamSettings>() ?? new StreamSettings();
        var errors = ingest.Validate().Concat(stream.Validate()).Concat(sqlite.Validate()).Concat(payloads.Validate().Select(e => "RunLedger:Payloads: " + e)).ToList();
        if (payloads.MaxBodyBytes < 1024)
        {
            errors.Add("RunLedger:Payloads:MaxBodyBytes must be at least 1024.");
        }

        if (payloads.MaxBodyBytes > ingest.MaxBodyFieldBytes)
        {
            errors.Add("RunLedger:Payloads:MaxBodyBytes cannot be larger than RunLedger:Ingest:MaxBodyFieldBytes.");
        }

        var dataDirectory = Path.GetFullPath(options.DataDirectory);
        StoreLocation? location = null;
        try
        {
            location = string.IsNullOrWhiteSpace(options.Store)
                ? new StoreLocation(StoreEngine.Sqlite, Path.Combine(dataDirectory, sqlite.Path))
                : StoreLocation.Parse(options.Store, Environment.CurrentDirectory);
        }
        catch (FormatException e)
        {
            errors.Add("--store: " + e.Message);
        }

        var postgres = configuration.GetSection(PostgresStoreOptions.Section).Get<PostgresStoreOptions>() ?? new PostgresStoreOptions();
        if (location?.Engine == StoreEngine.Postgres)
        {
            errors.AddRange(postgres.Validate());
            try
            {
                _ = PostgresConnectionStrings.Normalize(location.Value);
            }
            catch (FormatException e)
            {
                errors.Add("--store: " + e.Message);
            }
        }

        if (errors.Count > 0)
        {
            throw new OptionsValidationException("RunLedger", typeof(IngestOptions), errors);
        }

        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(new DataDirectory(dataDirectory));
        services.AddSingleton(Options.Create(ingest));
        services.AddSingleton(ingest);
        services.AddSingleton(payloads);
        services.AddSingleton(sqlite);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(location!);
        services.AddSingleton(sp => LedgerStores.Create(location!, sqlite, payloads, sp.GetRequiredService<TimeProvider>(), postgres, sp.GetRequiredService<ILoggerFactory>().CreateLogger("RunLedger.Store")));
        services.AddSingleton<LedgerChangeNotifier>();
        services.AddSingleton(sp => new IngestPipeline(
            sp.GetRequiredService<ILedgerStore>().Writer,
            ingest,
            sp.GetRequiredService<LedgerChangeNotifier>(),
            sp.GetRequiredService<ILogger<IngestPipeline>>()));
        services.AddSingleton<ApiKeyCache>();
        services.AddSingleton(stream);
        services.AddHostedService<ChangeFeedService>();
        services.AddHostedService<NativeHeapTrimmer>();
        services.AddExceptionHandler<StoreUnavailableHandler>();
        services.AddSingleton<KeyBootstrapper>();
        services.AddSingleton<DemoSeeder>();
        services.ConfigureHttpJsonOptions(json => LedgerJson.Apply(json.SerializerOptions));
        services.AddProblemDetails(problems => problems.CustomizeProblemDetails = context =>
        {
            // Routing refuses a body that is not JSON before the endpoint runs (its Accepts
            // metadata); say what to send instead of a bare status.
            if (context.ProblemDetails.Status == StatusCodes.Status415UnsupportedMediaType && context.ProblemDetails.Detail is null)
            {
                context.ProblemDetails.Type = "https://runledger.dev/problems/unsupported-media-type";
                context.ProblemDetails.Detail = $"Content-Type '{context.HttpContext.Request.ContentType}' is not accepted; send 'application/json'.";
            }
        });
        services.AddOpenApi();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = ingest.MaxRequestBytes);

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapOpenApi();
        app.MapHealth();
        app.MapIngest();
        app.MapReads();
        app.MapStream();
        app.MapAdmin();
        return app;
    }

    /// <summary>
    /// Opens the store (creating or upgrading its schema), makes the first key when there is
    /// none, starts the writer and then Kestrel.
    /// </summary>
    /// <exception cref="StoreUnavailableException">The database cannot be reached, with what to check.</exception>
    public static async Task StartAsync(WebApplication app, CancellationToken cancellationToken, TextWriter? console = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        var services = app.Services;
        var store = services.GetRequiredService<ILedgerStore>();
        var dataDirectory = services.GetRequiredService<DataDirectory>().Path;
        Directory.CreateDirectory(dataDirectory);
        try
        {
            await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (StoreUnavailableException.IsUnavailable(ex) && ex is not StoreUnavailableException)
        {
            throw new StoreUnavailableException(
                $"The store ({store.Describe()}) does not answer: {ex.GetBaseException().Message}. Check that the database server is running and reachable from here and that --store names it, then start again.",
                ex);
        }

        Log.StoreOpened(services.GetRequiredService<ILogger<WebApplication>>(), store.Describe());
        await services.GetRequiredService<KeyBootstrapper>()
            .RunAsync(dataDirectory, app.Configuration["RUNLEDGER_BOOTSTRAP_KEY"], console ?? Console.Out, cancellationToken)
            .ConfigureAwait(false);
        services.GetRequiredService<IngestPipeline>().Start();
        if (services.GetRequiredService<ServerOptions>().Demo)
        {
            await services.GetRequiredService<DemoSeeder>().RunAsync(500, cancellationToken).ConfigureAwait(false);
        }

        await app.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The addresses Kestrel is listening on (useful with port 0).</summary>
    public static IReadOnlyList<string> Addresses(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var feature = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>();
        return feature?.Addresses.ToArray() ?? [];
    }
}

/// <summary>Where the server keeps its files.</summary>
internal sealed record DataDirectory(string Path);
