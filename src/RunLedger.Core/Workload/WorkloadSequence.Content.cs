using System.Globalization;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;

namespace RunLedger.Core.Workload;

/// <summary>What each run says: inputs, outputs, token counts, costs and errors.</summary>
internal sealed partial class WorkloadSequence
{
    private const int LargeBodyChars = 1_250_000;

    private static readonly int ModelWeightTotal = WorkloadCatalog.ModelSpeed.Sum(m => m.Weight);

    private void DecideContent(Node node, TreeContext context)
    {
        switch (node.Kind)
        {
            case "llm":
                DecideLlm(node);
                break;
            case "tool":
                node.Name = Pick(WorkloadCatalog.Tools);
                node.TimeoutSeconds = 30;
                node.Input = ToolArguments(node.Name, context);
                node.Output = node.Failed ? null : string.Concat("{\"ok\":true,\"result\":\"", Snippet(WordsToChars(LogNormal(40, 0.9), 3, 800)), "\"}");
                node.Error = node.Failed && !node.TimedOut ? Pick(WorkloadCatalog.ToolErrors) : null;
                break;
            case "retrieval":
                node.Name = Pick(WorkloadCatalog.Retrievers);
                node.TimeoutSeconds = 10;
                node.Input = string.Concat("{\"query\":\"", Snippet(30 + _random.Next(50)), "\",\"k\":8,\"filter\":{\"repository\":\"", context.Session!.Repository, "\"}}");
                node.Output = node.Failed ? null : Documents();
                node.Error = node.Failed && !node.TimedOut ? Pick(WorkloadCatalog.RetrievalErrors) : null;
                break;
            case "pipeline":
                node.TimeoutSeconds = 3600;
                node.Input = string.Concat("{\"item\":\"", context.Item, "\",\"batch\":\"", _nightDate, "\",\"repository\":\"", context.Session!.Repository, "\"}");
                node.Output = node.Failed ? null : string.Concat("{\"status\":\"done\",\"item\":\"", context.Item, "\",\"summary\":\"", Snippet(WordsToChars(LogNormal(30, 0.5), 5, 200)), "\"}");
                node.Error = node.Failed && !node.TimedOut ? Pick(WorkloadCatalog.StepErrors) : null;
                break;
            default:
                node.TimeoutSeconds = 300;
                node.Input = string.Concat("{\"agent\":\"", node.Name, "\",\"goal\":\"", Snippet(60 + _random.Next(120)), "\",\"item\":\"", context.Item, "\"}");
                node.Output = node.Failed ? null : string.Concat("{\"decision\":\"continue\",\"summary\":\"", Snippet(WordsToChars(LogNormal(25, 0.6), 4, 300)), "\"}");
                node.Error = node.Failed && !node.TimedOut ? Pick(WorkloadCatalog.StepErrors) : null;
                break;
        }

        if (node.TimedOut)
        {
            node.Error = WorkloadCatalog.Timeout(node.TimeoutSeconds, node.Kind);
        }
    }

    private void DecideLlm(Node node)
    {
        _llmCounter++;
        node.TimeoutSeconds = _random.Next(2) == 0 ? 60 : 120;
        node.Parameters = Pick(WorkloadCatalog.Parameters);
        if (node.RetryOf is { } first)
        {
            node.Template = first.Template;
            node.Model = first.Model;
            node.Name = first.Name;
            node.Input = first.Input;
            node.InputTokens = first.InputTokens;
            node.ChatInput = first.ChatInput;
        }
        else
        {
            var template = Pick(WorkloadCatalog.Templates);
            node.Template = template;
            node.Name = template.Name;
            node.Model = PickModel();
            node.ChatInput = _random.NextDouble() < 0.85;
            var user = UserMessage(template);
            node.Input = node.ChatInput ? string.Concat(template.ChatPrefix, user, "\"}]") : string.Concat("\"", user, "\"");
            var chars = user.Length + (node.ChatInput ? template.SystemChars : 0);
            node.InputTokens = Tokens(chars) + (node.ChatInput ? 8 : 3);
        }

        if (node.Failed)
        {
            node.Error = node.TimedOut ? null : Pick(WorkloadCatalog.LlmErrors);
            return;
        }

        string text;
        if (_options.LargeBodyEvery > 0 && _llmCounter % _options.LargeBodyEvery == 0)
        {
            text = string.Concat("Run ", Inv(_llmCounter), ": ", Snippet(LargeBodyChars));
        }
        else if (node.Template!.JsonOutput)
        {
            text = JsonAnswer(node.Template);
            node.Output = node.ChatInput
                ? string.Concat("{\"role\":\"assistant\",\"content\":", JsonString(text), "}")
                : JsonString(text);
            node.OutputTokens = Tokens(text.Length);
            return;
        }
        else
        {
            text = Snippet(WordsToChars(LogNormal(150, 1.0), 10, 6000));
        }

        if (node.Name == "tool-select")
        {
            node.Output = string.Concat(
                "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_", _random.NextInt64().ToString("x16", CultureInfo.InvariantCulture),
                "\",\"type\":\"function\",\"function\":{\"name\":\"", Pick(WorkloadCatalog.Tools), "\",\"arguments\":\"{\\\"query\\\":\\\"", Snippet(30 + _random.Next(60)), "\\\"}\"}}]}");
            node.OutputTokens = Tokens(node.Output.Length);
            return;
        }

        node.Output = node.ChatInput ? string.Concat("{\"role\":\"assistant\",\"content\":\"", text, "\"}") : string.Concat("\"", text, "\"");
        node.OutputTokens = Tokens(text.Length);
    }

    private RunPayload BuildPayload(Node node, TreeContext context)
    {
        var isLlm = node.Kind == "llm";
        var price = isLlm ? WorkloadCatalog.Models[node.Model] : null;
        var succeededLlm = isLlm && !node.Failed;
        var tags = new List<string>(3) { "nightly", context.Session!.Tag };
        if (node.RetryOf is not null)
        {
            tags.Add("retry");
        }

        return new RunPayload
        {
            Id = node.Id,
            SessionId = context.Session.Id,
            ParentId = node.Parent >= 0 ? _tree[node.Parent].Id : null,
            Kind = node.Kind,
            Name = node.Name,
            Status = (node.TimedOut ? RunStatus.Timeout : node.Failed ? RunStatus.Failed : RunStatus.Succeeded).ToWire(),
            StartedAt = ToTime(node.Start),
            EndedAt = ToTime(node.End),
            Model = price?.Model,
            Provider = price?.Provider,
            Parameters = node.Parameters,
            Input = node.Input is null ? null : new RawJson(node.Input),
            Output = node.Output is null ? null : new RawJson(node.Output),
            Error = node.Error,
            Usage = succeededLlm ? new Usage { InputTokens = node.InputTokens, OutputTokens = node.OutputTokens } : null,
            CostUsd = succeededLlm ? price!.CostUsd(node.InputTokens, node.OutputTokens) : null,
            Tags = tags,
            Metadata = context.Metadata,
            UserId = context.UserId,
        };
    }

    private int PickModel()
    {
        var roll = _random.Next(ModelWeightTotal);
        for (var i = 0; i < WorkloadCatalog.ModelSpeed.Length; i++)
        {
            roll -= WorkloadCatalog.ModelSpeed[i].Weight;
            if (roll < 0)
            {
                return i;
            }
        }

        return 0;
    }

    private string UserMessage(PromptTemplate template) => string.Concat(
        template.UserLead, " #", Inv(_random.Next(10_000, 100_000)), " from ", Pick(WorkloadCatalog.Companies), ": ",
        Snippet(WordsToChars(LogNormal(60, 0.8), 8, 1500)));

    private string ItemReference(int flavor) => flavor switch
    {
        1 => "TCK-" + Inv(_random.Next(10_000, 100_000)),
        2 => "PR-" + Inv(_random.Next(100, 10_000)),
        3 => "LEAD-" + Inv(_random.Next(1_000, 10_000)),
        _ => "ITEM-" + Inv(_random.Next(1_000, 100_000)),
    };

    private string JsonAnswer(PromptTemplate template)
    {
        var confidence = (0.5 + (_random.NextDouble() * 0.5)).ToString("0.00", CultureInfo.InvariantCulture);
        return template.Name switch
        {
            "classify-intent" => string.Concat("{\"intent\":\"", Pick(Intents), "\",\"confidence\":", confidence, "}"),
            "score-lead" => string.Concat("{\"score\":", Inv(_random.Next(0, 101)), ",\"tier\":\"", Pick(LeadTiers), "\",\"reason\":\"", Snippet(80 + _random.Next(200)), "\"}"),
            "grade-answer" or "judge-relevance" => string.Concat("{\"grade\":", Inv(_random.Next(1, 6)), ",\"confidence\":", confidence, ",\"rationale\":\"", Snippet(60 + _random.Next(300)), "\"}"),
            _ => string.Concat("{\"items\":[\"", Pick(WorkloadCatalog.Companies), "\",\"", Pick(WorkloadCatalog.ProspectDomains), "\"],\"confidence\":", confidence, "}"),
        };
    }

    private string ToolArguments(string tool, TreeContext context) => tool switch
    {
        "search_docs" => string.Concat("{\"query\":\"", Snippet(30 + _random.Next(40)), "\",\"limit\":5}"),
        "run_sql" => "{\"query\":\"SELECT plan, count(*) AS accounts FROM accounts WHERE created_at > '2026-11-01' GROUP BY plan ORDER BY accounts DESC\"}",
        "http_get" => string.Concat("{\"url\":\"https://api.internal.", context.Session!.VendorDomain, "/v2/accounts/", Inv(_random.Next(1_000, 100_000)), "\"}"),
        "read_file" => string.Concat("{\"path\":\"", Pick(Paths), "\"}"),
        "create_ticket" => string.Concat("{\"title\":\"", Snippet(30 + _random.Next(40)), "\",\"priority\":\"p", Inv(1 + _random.Next(4)), "\"}"),
        "send_email" => string.Concat("{\"to\":\"ops@", context.Session!.VendorDomain, "\",\"subject\":\"", Snippet(20 + _random.Next(40)), "\"}"),
        _ => string.Concat("{\"base\":\"main\",\"head\":\"feature/", context.Item, "\"}"),
    };

    private string Documents()
    {
        var count = 3 + _random.Next(6);
        var parts = new string[(count * 7) + 2];
        var n = 0;
        parts[n++] = "{\"documents\":[";
        var score = 0.95;
        for (var i = 0; i < count; i++)
        {
            score -= _random.NextDouble() * 0.08;
            parts[n++] = i == 0 ? "{\"id\":\"doc-" : ",{\"id\":\"doc-";
            parts[n++] = Inv(_random.Next(1, 50_000));
            parts[n++] = "\",\"score\":";
            parts[n++] = score.ToString("0.0000", CultureInfo.InvariantCulture);
            parts[n++] = ",\"text\":\"";
            parts[n++] = Snippet(WordsToChars(LogNormal(40, 0.5), 8, 200));
            parts[n++] = "\"}";
        }

        parts[n] = "]}";
        return string.Concat(parts);
    }

    /// <summary>
    /// A run of whole words from the corpus, about <paramref name="chars"/> long. The corpus holds no
    /// character that needs escaping, so the result goes into a JSON string as is.
    /// </summary>
    private string Snippet(int chars)
    {
        var corpus = WorkloadCatalog.Corpus;
        if (chars >= corpus.Length / 2)
        {
            var copies = (chars / corpus.Length) + 1;
            return string.Concat(Enumerable.Repeat(corpus, copies))[..chars].TrimEnd();
        }

        // Start at a sentence, end at a sentence when that keeps most of the length, else at a word.
        var start = corpus.IndexOf(". ", _random.Next(0, corpus.Length - chars - 400), StringComparison.Ordinal) + 2;
        var end = corpus.LastIndexOf('.', start + chars) + 1;
        if (end - start < chars * 3 / 4)
        {
            end = corpus.LastIndexOf(' ', start + chars);
        }

        return end > start ? corpus[start..end] : corpus.Substring(start, chars).Trim();
    }

    private static int WordsToChars(double words, int min, int max) => (int)(Math.Clamp(words, min, max) * 6.1);

    private long Tokens(int chars) => Math.Max(1, (long)Math.Round(chars / 4.0 * (0.92 + (_random.NextDouble() * 0.16))));

    private static string JsonString(string text) => System.Text.Json.JsonSerializer.Serialize(text);

    private static readonly string[] Intents = ["billing_question", "cancel_subscription", "bug_report", "feature_request", "refund_request", "login_problem"];

    private static readonly string[] LeadTiers = ["hot", "warm", "cold"];

    private static readonly string[] Paths = ["docs/runbooks/billing-retry.md", "src/Api/Controllers/RunsController.cs", "README.md", "config/retention.yaml", "CHANGELOG.md"];

    private sealed class Node
    {
        public required string Kind { get; init; }

        public required string Name { get; set; }

        public required int Parent { get; init; }

        public bool Failed { get; init; }

        public bool TimedOut { get; init; }

        public Node? RetryOf { get; set; }

        public int TimeoutSeconds { get; set; }

        public PromptTemplate? Template { get; set; }

        public int Model { get; set; }

        public bool ChatInput { get; set; }

        public RawJson? Parameters { get; set; }

        public string? Input { get; set; }

        public string? Output { get; set; }

        public RunError? Error { get; set; }

        public long InputTokens { get; set; }

        public long OutputTokens { get; set; }

        public long Start { get; set; }

        public long End { get; set; }

        public string? Id { get; set; }

        public RunPayload? Payload { get; set; }
    }

    private sealed class SessionPlan
    {
        public required string Id { get; init; }

        public required string Name { get; init; }

        public long StartMicros { get; init; }

        public long EndMicros { get; init; }

        public bool Failed { get; init; }

        public int Flavor { get; init; }

        public required string Repository { get; init; }

        public required string VendorDomain { get; init; }

        public required string Runner { get; init; }

        public required string Tag { get; init; }

        public int Quota { get; init; }

        public required RawJson Metadata { get; init; }

        public RawJson[] RunMetadata { get; set; } = [];
    }

    private sealed class TreeContext
    {
        public SessionPlan? Session { get; init; }

        public RawJson? Metadata { get; init; }

        public string? UserId { get; init; }

        public required string Item { get; init; }
    }
}
