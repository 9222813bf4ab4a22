using System.CommandLine;
using System.Net;
using RunLedger.Cli.Api;

namespace RunLedger.Cli.Commands;

/// <summary>Runs client commands and turns every failure into a message on stderr and a documented exit code.</summary>
internal static class CommandRunner
{
    public static void SetClientAction(Command command, CliHost host, GlobalOptions globals, Func<CommandContext, CancellationToken, Task<int>> action)
    {
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            CommandContext? context = null;
            try
            {
                context = CommandContext.Create(host, globals, parseResult);
                return await action(context, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                return Report(host, context, ex, cancellationToken);
            }
            finally
            {
                context?.Dispose();
            }
        });
    }

    /// <summary>Writes what went wrong to stderr and picks the exit code.</summary>
    public static int Report(CliHost host, CommandContext? context, Exception exception, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(exception);
        var error = host.Error;
        switch (exception)
        {
            case OperationCanceledException when cancellationToken.IsCancellationRequested:
                error.WriteLine("Interrupted.");
                return ExitCodes.Interrupted;

            case CliUsageException usage:
                error.WriteLine("error: " + usage.Message);
                return ExitCodes.Usage;

            case LedgerUnreachableException unreachable:
                error.WriteLine($"error: cannot reach the RunLedger server at {unreachable.Server} ({unreachable.InnerException?.Message ?? unreachable.Message}).");
                error.WriteLine($"Is it running? Start one with `runledger serve`, or point --server / {KeyResolver.ServerVariable} at the right address.");
                return ExitCodes.Unreachable;

            case LedgerApiException api:
                return ReportApiError(host, context, api);

            default:
                error.WriteLine("error: " + exception.Message);
                return ExitCodes.ServerError;
        }
    }

    /// <summary>The exit code for an HTTP error status: 400 is a usage error, 401/403 not authorized, the rest a server error.</summary>
    public static int ExitCodeFor(HttpStatusCode status) => status switch
    {
        HttpStatusCode.BadRequest => ExitCodes.Usage,
        HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => ExitCodes.NotAuthorized,
        _ => ExitCodes.ServerError,
    };

    private static int ReportApiError(CliHost host, CommandContext? context, LedgerApiException api)
    {
        var error = host.Error;
        var problem = api.Problem;
        var title = problem?.Title ?? api.Status.ToString();
        error.WriteLine($"error: {(int)api.Status} {title}");
        if (!string.IsNullOrWhiteSpace(problem?.Detail))
        {
            error.WriteLine("  " + problem.Detail);
        }

        if (problem?.Field is { Length: > 0 } field)
        {
            error.WriteLine($"  field: {field}{(problem.Column is { } column ? $", column {column}" : string.Empty)}");
        }

        var source = context?.Key.Source ?? "unknown";
        switch (api.Status)
        {
            case HttpStatusCode.Unauthorized when context?.Key.Key is null:
                error.WriteLine($"No API key was sent. Pass --key, set {KeyResolver.KeyVariable}, or run where the server's data directory (with {KeyResolver.AdminKeyFileName}) is, or pass --data.");
                break;
            case HttpStatusCode.Unauthorized:
                error.WriteLine($"The server refused the key from {source} (unknown, malformed or revoked).");
                break;
            case HttpStatusCode.Forbidden:
                error.WriteLine($"The key from {source} lacks the '{api.RequiredScope}' scope this command needs.");
                error.WriteLine($"Create one with an admin key: runledger keys create --name NAME --scopes {api.RequiredScope}");
                break;
            case HttpStatusCode.NotFound:
                error.WriteLine("Not found in the key's project.");
                break;
            case HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable:
                error.WriteLine(api.RetryAfter is { } wait
                    ? $"The server is busy; try again in {wait.TotalSeconds:0} s."
                    : "The server is busy or its store is unavailable; try again shortly.");
                break;
            default:
                break;
        }

        return ExitCodeFor(api.Status);
    }
}
