using System.CommandLine;
using RunLedger.Core.Import;
using RunLedger.Core.Storage.Transfer;

namespace RunLedger.Cli.Transfer;

/// <summary>
/// Runs commands that work on a store in this process (no server): a mistake in the input is a
/// usage error (exit 2) with what to do about it; an interruption says how to resume.
/// </summary>
internal static class LocalCommandRunner
{
    public static void SetAction(Command command, CliHost host, Func<ParseResult, CancellationToken, Task<int>> action)
    {
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            try
            {
                return await action(parseResult, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await host.Error.WriteLineAsync("Interrupted. Run the same command again to continue where it stopped.").ConfigureAwait(false);
                return ExitCodes.Interrupted;
            }
            catch (Exception e) when (e is CliUsageException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException
                or FormatException or RunMappingException or TransferConflictException)
            {
                await host.Error.WriteLineAsync("error: " + e.Message).ConfigureAwait(false);
                return ExitCodes.Usage;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                await host.Error.WriteLineAsync("error: " + e.Message).ConfigureAwait(false);
                return ExitCodes.ServerError;
            }
        });
    }
}
