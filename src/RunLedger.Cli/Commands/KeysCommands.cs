using System.CommandLine;
using RunLedger.Cli.Api;
using RunLedger.Cli.Rendering;
using RunLedger.Core.Security;
using Spectre.Console;

namespace RunLedger.Cli.Commands;

/// <summary><c>runledger keys create|list|revoke</c> (needs an admin key).</summary>
internal static class KeysCommands
{
    public static Command Create(CliHost host, GlobalOptions globals)
    {
        var command = new Command("keys", "Manage API keys (needs an admin key)");
        globals.AddTo(command);
        command.Subcommands.Add(CreateCreate(host, globals));
        command.Subcommands.Add(CreateList(host, globals));
        command.Subcommands.Add(CreateRevoke(host, globals));
        return command;
    }

    private static Command CreateCreate(CliHost host, GlobalOptions globals)
    {
        var name = new Option<string>("--name") { Description = "What the key is for (ci, agent-runner ...)", Required = true, HelpName = "NAME" };
        var project = new Option<string?>("--project") { Description = "The project the key belongs to (default: the server's default project)", HelpName = "PROJECT" };
        var scopes = new Option<string>("--scopes")
        {
            Description = "Comma-separated scopes: ingest, read, admin",
            DefaultValueFactory = _ => "ingest,read",
            HelpName = "SCOPES",
        };
        CommonOptions.Validate(scopes, value => ApiKeySecrets.TryParseScopes(value, out _) ? null : "--scopes takes a comma-separated list of ingest, read and admin.");
        var command = new Command("create", "Create a key and print its secret (shown only this once)") { name, project, scopes };

        CommandRunner.SetClientAction(command, host, globals, async (context, cancellationToken) =>
        {
            ApiKeySecrets.TryParseScopes(context.ParseResult.GetValue(scopes), out var parsed);
            var request = new CreateKeyRequest(context.ParseResult.GetValue(name)!, context.ParseResult.GetValue(project), ApiKeySecrets.FormatScopes(parsed).Split(','));
            var created = await context.Client.CreateKeyAsync(request, cancellationToken).ConfigureAwait(false);
            if (context.Json)
            {
                context.WriteJson(created);
                return ExitCodes.Ok;
            }

            context.Console.MarkupLine($"Created key {Styles.Bold(created.Id.ToString(System.Globalization.CultureInfo.InvariantCulture))} for project {Styles.Escape(created.Project ?? request.Project ?? "default")} with scopes {Styles.Escape(string.Join(',', created.Scopes))}.");
            context.Console.MarkupLine("The secret is shown only this once; store it now:");
            context.Host.Output.WriteLine(created.Secret);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command CreateList(CliHost host, GlobalOptions globals)
    {
        var command = new Command("list", "List keys (never their secrets)");
        CommandRunner.SetClientAction(command, host, globals, async (context, cancellationToken) =>
        {
            var keys = await context.Client.ListKeysAsync(cancellationToken).ConfigureAwait(false);
            if (context.Json)
            {
                context.WriteJson(keys);
                return ExitCodes.Ok;
            }

            var table = new Table().Border(TableBorder.Simple)
                .AddColumn(new TableColumn("id").RightAligned()).AddColumn("name").AddColumn("project").AddColumn("scopes")
                .AddColumn("prefix").AddColumn("created").AddColumn("revoked");
            foreach (var key in keys)
            {
                table.AddRow(
                    key.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    Styles.Escape(key.Name),
                    Styles.Escape(key.Project ?? key.ProjectName),
                    Styles.Escape(KeyScopesText.From(key.Scopes)),
                    Styles.Escape(key.Prefix),
                    Styles.Escape(Format.Ago(key.CreatedAt, context.Now)),
                    key.RevokedAt is null ? string.Empty : $"[red]{Styles.Escape(Format.Ago(key.RevokedAt, context.Now))}[/]");
            }

            context.Console.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command CreateRevoke(CliHost host, GlobalOptions globals)
    {
        var id = new Argument<long>("id") { Description = "The key id (from keys list)" };
        var command = new Command("revoke", "Revoke a key; it stops working at once") { id };
        CommandRunner.SetClientAction(command, host, globals, async (context, cancellationToken) =>
        {
            var keyId = context.ParseResult.GetValue(id);
            await context.Client.RevokeKeyAsync(keyId, cancellationToken).ConfigureAwait(false);
            if (context.Json)
            {
                context.WriteJson(new { id = keyId, revoked = true });
                return ExitCodes.Ok;
            }

            context.Console.MarkupLine($"Revoked key {keyId}.");
            return ExitCodes.Ok;
        });
        return command;
    }
}
