namespace RunLedger.Cli.Tests;

/// <summary>Wire-format JSON as docs/api.md describes it.</summary>
internal static class Samples
{
    public const string FailedRunId = "0193a1b2-0000-7000-8000-000000000001";

    public const string FailedRun = """
        { "id": "0193a1b2-0000-7000-8000-000000000001", "sessionId": "nightly-1", "kind": "llm", "name": "summarize-ticket",
          "status": "failed", "startedAt": "2026-11-22T05:00:00Z", "endedAt": "2026-11-22T05:00:02.5Z", "durationMs": 2500.0,
          "model": "gpt-4o", "provider": "openai", "input": [{"role":"user","content":"Refund policy for resellers?"}],
          "error": {"type":"RateLimitError","message":"429 Too Many Requests","stack":"at X"},
          "usage": {"inputTokens":1200,"outputTokens":300,"cachedTokens":0,"reasoningTokens":0,"totalTokens":1500},
          "costUsd": 0.006, "tags": ["nightly"], "metadata": {"repository":"acme/web"}, "source": "api", "pinned": false,
          "createdAt": "2026-11-22T05:00:00Z", "updatedAt": "2026-11-22T05:00:02.5Z" }
        """;

    public const string SlowRun = """
        { "id": "0193a1b2-0000-7000-8000-000000000002", "kind": "pipeline", "name": "answer-support-ticket",
          "status": "succeeded", "startedAt": "2026-11-22T03:00:00Z", "durationMs": 95000.0,
          "usage": {}, "source": "api" }
        """;

    public const string RunPage = "{\"items\":[" + FailedRun + "],\"nextCursor\":null}";

    public const string SlowPage = "{\"items\":[" + SlowRun + "," + FailedRun + "],\"nextCursor\":null}";

    public const string Stats = """
        { "from": "2026-11-21T20:00:00Z", "to": "2026-11-22T08:00:00Z", "groupBy": ["status"], "source": "rollups",
          "total": { "count": 120, "errors": 3, "inputTokens": 150000, "outputTokens": 40000, "costUsd": 12.5,
                     "avgMs": 2100.5, "p50Ms": 1800.2, "p95Ms": 6100.0, "p99Ms": 9800.1, "maxMs": 95000 },
          "groups": [
            { "key": {"status": "succeeded"}, "figures": { "count": 117 } },
            { "key": {"status": "failed"}, "figures": { "count": 3, "errors": 3 } } ] }
        """;

    public const string Sessions = """
        { "items": [ { "id": "nightly-1", "name": "nightly eval", "state": "active", "startedAt": "2026-11-21T22:00:00Z",
                       "runCount": 120, "failedCount": 3, "inputTokens": 150000, "outputTokens": 40000, "costUsd": 12.5,
                       "lastRunAt": "2026-11-22T07:55:00Z" } ], "nextCursor": null }
        """;

    public const string Problem401 = """{"type":"https://runledger.dev/problems/unauthorized","title":"The key is not valid.","status":401}""";

    public const string Problem403 = """{"title":"The key lacks a scope.","status":403,"detail":"This endpoint needs the 'admin' scope."}""";

    public const string Problem400 = """{"type":"https://runledger.dev/problems/invalid-filter","title":"The filter is not valid.","status":400,"detail":"column 8: expected a value after 'status:'","field":"q","column":8}""";
}
