using System.CommandLine;
using RunLedger.Cli.Demo;
using RunLedger.Cli.Rendering;
using RunLedger.Core.Ingest;
using Spectre.Console;

namespace RunLedger.Cli.Commands;

/// <summary><c>runledger demo</c>: sends a realistic overnight workload to the server.</summary>
internal static class DemoCommand
{
    private const int BatchSize = 200;

    public static Command Create(CliHost host, GlobalOptions globals)
    {
        var seed = new Option<int>("--seed") { Description = "The random seed (the same seed sends the same workload)", DefaultValueFactory = _ => 1, HelpName = "N" };
        var runs = new Option<int>("--runs") { Description = "About how many runs to send", DefaultValueFactory = _ => 200, HelpName = "N" };
        CommonOptions.Validate(runs, value => value is < 1 or > 1_000_000 ? "--runs must be between 1 and 1000000." : null);
        var command = new Command("demo", "Send a realistic overnight workload (sessions, nested runs, failures) to the server") { seed, runs };
        globals.AddTo(command);

        CommandRunner.SetClientAction(command, host, globals, async (context, cancellationToken) =>
        {
            // A night that has just ended: it started ten hours ago and lasted eight, so
            // `runledger status --since 12h` shows all of it.
            var now = context.Now.ToUniversalTime();
            var nightStart = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero).AddHours(-10);
            var accepted = 0;
            var rejected = new List<RejectedItem>();
            foreach (var batch in DemoWorkload.Generate(context.ParseResult.GetValue(seed), context.ParseResult.GetValue(runs), nightStart, BatchSize))
            {
                var answer = await context.Client.IngestAsync(batch, cancellationToken).ConfigureAwait(false);
                accepted += answer.Accepted;
                rejected.AddRange(answer.Rejected);
            }

            if (context.Json)
            {
                context.WriteJson(new IngestResponse(accepted, rejected));
            }
            else
            {
                context.Console.MarkupLine($"Sent the demo night to {Styles.Escape(context.Server.ToString())}: {Styles.Bold(Format.Count(accepted))} items accepted, {(rejected.Count == 0 ? "none" : $"[red]{rejected.Count}[/]")} rejected.");
                foreach (var item in rejected.Take(10))
                {
                    context.Host.Error.WriteLine($"rejected {item.Kind} #{item.Index} {item.Id}: {item.Error}");
                }

                if (rejected.Count == 0)
                {
                    context.Console.MarkupLine("Now try: runledger status --since 24h");
                }
            }

            return rejected.Count == 0 ? ExitCodes.Ok : ExitCodes.ServerError;
        });
        return command;
    }
}
