namespace RunLedger.Core.Model;

/// <summary>What a run is: an LLM call, an agent step, a tool call and so on.</summary>
public enum RunKind
{
    Llm,
    Agent,
    Tool,
    Retrieval,
    Pipeline,
    Step,
    Spec,
    Custom,
}
