using RunLedger.Cli;

return await CliApp.RunAsync(args, CliHost.CreateDefault()).ConfigureAwait(false);
