using System.CommandLine;
using System.Text.Json;
using RunLedger.Cli.Api;
using RunLedger.Core;
using Spectre.Console;

namespace RunLedger.Cli.Commands;

/// <summary>What a client command runs with: the parsed options, the resolved server and key, and a client.</summary>
internal sealed class CommandContext : IDisposable
{
    private static readonly JsonSerializerOptions Indented = new(LedgerJson.Options) { WriteIndented = true };
    private static readonly JsonSerializerOptions Compact = new(LedgerJson.Options) { WriteIndented = false };

    private LedgerClient? _client;

    private CommandContext(CliHost host, ParseResult parseResult, Uri server, ResolvedKey key, bool json)
    {
        Host = host;
        ParseResult = parseResult;
        Server = server;
        Key = key;
        Json = json;
    }

    public CliHost Host { get; }

    public ParseResult ParseResult { get; }

    public Uri Server { get; }

    public ResolvedKey Key { get; }

    /// <summary><c>--json</c>: print JSON on standard output instead of tables.</summary>
    public bool Json { get; }

    public IAnsiConsole Console => Host.Console;

    public DateTimeOffset Now => Host.Time.GetUtcNow();

    public LedgerClient Client => _client ??= LedgerClient.Create(Server, Key.Key, Host.HttpHandler);

    public static CommandContext Create(CliHost host, GlobalOptions globals, ParseResult parseResult)
    {
        var server = KeyResolver.ResolveServer(parseResult.GetValue(globals.Server), host.GetEnvironmentVariable);
        var key = KeyResolver.ResolveKey(parseResult.GetValue(globals.Key), parseResult.GetValue(globals.Data), host.GetEnvironmentVariable, host.CurrentDirectory);
        return new CommandContext(host, parseResult, server, key, parseResult.GetValue(globals.Json));
    }

    /// <summary>Writes <paramref name="value"/> as indented wire-format JSON on standard output.</summary>
    public void WriteJson<T>(T value) => Host.Output.WriteLine(JsonSerializer.Serialize(value, Indented));

    /// <summary>Writes <paramref name="value"/> as one line of JSON (JSON Lines, for streams).</summary>
    public void WriteJsonLine<T>(T value) => Host.Output.WriteLine(JsonSerializer.Serialize(value, Compact));

    public void Dispose() => _client?.Dispose();
}
