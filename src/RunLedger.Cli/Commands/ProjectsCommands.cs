using System.CommandLine;
using RunLedger.Cli.Rendering;
using Spectre.Console;

namespace RunLedger.Cli.Commands;

/// <summary><c>runledger projects list|create</c> (needs an admin key).</summary>
internal static class ProjectsCommands
{
    public static Command Create(CliHost host, GlobalOptions globals)
    {
        var command = new Command("projects", "List and create projects (needs an admin key)");
        globals.AddTo(command);

        var list = new Command("list", "List projects");
        CommandRunner.SetClientAction(list, host, globals, async (context, cancellationToken) =>
        {
            var projects = await context.Client.ListProjectsAsync(cancellationToken).ConfigureAwait(false);
            if (context.Json)
            {
                context.WriteJson(projects);
                return ExitCodes.Ok;
            }

            var table = new Table().Border(TableBorder.Simple).AddColumn(new TableColumn("id").RightAligned()).AddColumn("name").AddColumn("created");
            foreach (var project in projects)
            {
                table.AddRow(project.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), Styles.Escape(project.Name), Styles.Escape(Format.Utc(project.CreatedAt)));
            }

            context.Console.Write(table);
            return ExitCodes.Ok;
        });

        var name = new Argument<string>("name") { Description = "The new project's name" };
        var create = new Command("create", "Create a project") { name };
        CommandRunner.SetClientAction(create, host, globals, async (context, cancellationToken) =>
        {
            var project = await context.Client.CreateProjectAsync(context.ParseResult.GetValue(name)!, cancellationToken).ConfigureAwait(false);
            if (context.Json)
            {
                context.WriteJson(project);
                return ExitCodes.Ok;
            }

            context.Console.MarkupLine($"Created project {Styles.Bold(project.Name)}. Give it a key: runledger keys create --name NAME --project {Styles.Escape(project.Name)}");
            return ExitCodes.Ok;
        });

        command.Subcommands.Add(list);
        command.Subcommands.Add(create);
        return command;
    }
}
