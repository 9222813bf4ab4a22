namespace RunLedger.Core.Workload;

/// <summary>A prompt template: its name, what the user message starts with, and its prebuilt system prompt.</summary>
internal sealed record PromptTemplate(string Name, string UserLead, bool JsonOutput, int SystemChars, string ChatPrefix);
