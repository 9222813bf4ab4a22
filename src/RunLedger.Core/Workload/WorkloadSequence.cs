using System.Globalization;
using RunLedger.Core.Ingest;
using RunLedger.Core.Model;

namespace RunLedger.Core.Workload;

/// <summary>
/// One enumeration of a workload: plans the sessions, then builds run trees one at a time
/// (shape, outcome and content, then times, then payloads) and collects the events they cause.
/// </summary>
internal sealed partial class WorkloadSequence
{
    private const long MicrosPerMilli = 1_000;
    private const long MicrosPerSecond = 1_000_000;
    private const long NightMicros = 8L * 60 * 60 * MicrosPerSecond;
    private const long HeartbeatMicros = 5L * 60 * MicrosPerSecond;

    private readonly WorkloadOptions _options;
    private readonly Random _random;
    private readonly List<EventPayload> _events = [];
    private readonly List<Node> _tree = [];
    private readonly string _nightDate;
    private int _eventCounter;
    private int _llmCounter;

    public WorkloadSequence(WorkloadOptions options)
    {
        _options = options;
        _random = new Random(options.Seed);
        _nightDate = options.NightStart.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
    }

    public IEnumerable<IngestRequest> Produce(int batchSize)
    {
        var sessions = PlanSessions();
        foreach (var chunk in sessions.Select(ToPayload).Chunk(batchSize))
        {
            yield return new IngestRequest { Sessions = [.. chunk] };
        }

        var batch = new List<RunPayload>(batchSize);
        foreach (var session in sessions)
        {
            var shapes = PlanTrees(session.Quota);
            var window = session.EndMicros - session.StartMicros;
            for (var k = 0; k < shapes.Count; k++)
            {
                var offset = (long)(window * 0.8 * (k + _random.NextDouble()) / shapes.Count);
                var forceFailure = session.Failed && k == shapes.Count - 1;
                BuildTree(session, shapes[k], session.StartMicros + offset, forceFailure);
                foreach (var node in _tree)
                {
                    batch.Add(node.Payload!);
                    if (batch.Count == batchSize)
                    {
                        yield return new IngestRequest { Runs = batch };
                        batch = new List<RunPayload>(batchSize);
                    }
                }
            }

            AddHeartbeats(session);
        }

        if (batch.Count > 0)
        {
            yield return new IngestRequest { Runs = batch };
        }

        foreach (var chunk in _events.OrderBy(e => e.Time).Chunk(batchSize))
        {
            yield return new IngestRequest { Events = [.. chunk] };
        }
    }

    private List<SessionPlan> PlanSessions()
    {
        var nightStart = ToMicros(_options.NightStart);
        var slot = NightMicros / _options.Sessions;
        var plans = new List<SessionPlan>(_options.Sessions);
        for (var i = 0; i < _options.Sessions; i++)
        {
            var start = nightStart + (i * slot) + (long)(slot * 0.05 * _random.NextDouble());
            var flavor = i % WorkloadCatalog.Flavors.Length;
            var repository = (i + _random.Next(2)) % WorkloadCatalog.Repositories.Length;
            var quota = (_options.TargetRuns / _options.Sessions) + (i < _options.TargetRuns % _options.Sessions ? 1 : 0);
            var name = WorkloadCatalog.Flavors[flavor] + " " + _nightDate
                + (i >= WorkloadCatalog.Flavors.Length ? " #" + Inv(i / WorkloadCatalog.Flavors.Length + 1) : "");
            var runner = "ci-runner-" + Inv(1 + _random.Next(8));
            var plan = new SessionPlan
            {
                Id = NewId(start),
                Name = name,
                StartMicros = start,
                EndMicros = start + (long)(slot * 0.9),
                Failed = quota > 0 && _random.NextDouble() < Math.Min(1, _options.FailureRate * 6),
                Flavor = flavor,
                Repository = WorkloadCatalog.Repositories[repository],
                VendorDomain = WorkloadCatalog.VendorDomains[repository],
                Runner = runner,
                Tag = flavor == 0 ? "eval" : "prod",
                Quota = quota,
                Metadata = new RawJson(string.Concat(
                    "{\"repository\":\"", WorkloadCatalog.Repositories[repository],
                    "\",\"vendor_domain\":\"", WorkloadCatalog.VendorDomains[repository],
                    "\",\"runner\":\"", runner,
                    "\",\"trigger\":\"cron\",\"commit\":\"", _random.Next(0x1000000, 0x10000000).ToString("x7", CultureInfo.InvariantCulture),
                    "\"}")),
            };
            plan.RunMetadata = BuildRunMetadata(plan);
            plans.Add(plan);
        }

        return plans;
    }

    private RawJson[] BuildRunMetadata(SessionPlan session)
    {
        var variants = new RawJson[8];
        for (var i = 0; i < variants.Length; i++)
        {
            variants[i] = new RawJson(string.Concat(
                "{\"repository\":\"", session.Repository,
                "\",\"persona\":\"", Pick(WorkloadCatalog.Personas),
                "\",\"vendor_domain\":\"", session.VendorDomain,
                "\",\"prospect_domain\":\"", Pick(WorkloadCatalog.ProspectDomains),
                "\",\"template_version\":\"v", Inv(1 + _random.Next(4)), "\"}"));
        }

        return variants;
    }

    /// <summary>Tree shapes (children per agent step) that add up to exactly <paramref name="quota"/> runs.</summary>
    private List<int[]> PlanTrees(int quota)
    {
        var shapes = new List<int[]>();
        var remaining = quota;
        var steps = new List<int>(4);
        while (remaining > 0)
        {
            steps.Clear();
            var size = 1;
            var wanted = 2 + _random.Next(3);
            for (var j = 0; j < wanted && size + 1 <= remaining; j++)
            {
                var children = Math.Min(1 + _random.Next(4), remaining - size - 1);
                steps.Add(children);
                size += 1 + children;
            }

            shapes.Add([.. steps]);
            remaining -= size;
        }

        return shapes;
    }

    private void BuildTree(SessionPlan session, int[] shape, long treeStart, bool forceFailure)
    {
        _tree.Clear();
        var context = new TreeContext
        {
            Session = session,
            Metadata = session.RunMetadata[_random.Next(session.RunMetadata.Length)],
            UserId = _random.NextDouble() < 0.3 ? Pick(WorkloadCatalog.UserIds) : null,
            Item = ItemReference(session.Flavor),
        };

        // Shape and outcome first; times need to know outcomes and output sizes.
        NewNode("pipeline", WorkloadCatalog.Flavors[session.Flavor], -1, forceFailure);
        for (var j = 0; j < shape.Length; j++)
        {
            var step = _tree.Count;
            NewNode(_random.NextDouble() < 0.7 ? "agent" : "step", Pick(WorkloadCatalog.AgentSteps), 0, false);
            Node? previous = null;
            for (var c = 0; c < shape[j]; c++)
            {
                var child = previous is { Kind: "llm", Failed: true, TimedOut: false }
                    ? NewRetry(previous, step)
                    : NewNode(PickLeafKind(), "", step, false);
                previous = child;
            }
        }

        foreach (var node in _tree)
        {
            DecideContent(node, context);
        }

        ScheduleTimes(treeStart, session.EndMicros);
        foreach (var node in _tree)
        {
            node.Id = NewId(node.Start);
            node.Payload = BuildPayload(node, context);
            AddRunEvents(node, session);
        }
    }

    private Node NewNode(string kind, string name, int parent, bool forceFailure)
    {
        var failed = forceFailure || _random.NextDouble() < _options.FailureRate;
        var node = new Node
        {
            Kind = kind,
            Name = name,
            Parent = parent,
            Failed = failed,
            TimedOut = failed && !forceFailure && _random.NextDouble() < 0.25,
        };
        _tree.Add(node);
        return node;
    }

    private Node NewRetry(Node failed, int parent)
    {
        var node = NewNode("llm", failed.Name, parent, false);
        node.RetryOf = failed;
        return node;
    }

    private string PickLeafKind()
    {
        var roll = _random.Next(100);
        return roll < 55 ? "llm" : roll < 80 ? "tool" : "retrieval";
    }

    /// <summary>
    /// Lays the tree out in time, relative to its start: steps run one after another inside the
    /// pipeline and calls one after another inside their step, so every child starts after its
    /// parent starts and ends before it ends. A tree that would outlast its session is squeezed.
    /// </summary>
    private void ScheduleTimes(long treeStart, long sessionEnd)
    {
        var root = _tree[0];
        root.Start = 0;
        var cursor = Between(20, 200) * MicrosPerMilli;
        var i = 1;
        while (i < _tree.Count)
        {
            var step = _tree[i++];
            step.Start = cursor;
            var inner = cursor + (Between(5, 50) * MicrosPerMilli);
            while (i < _tree.Count && _tree[i].Parent != 0)
            {
                var child = _tree[i++];
                child.Start = inner;
                child.End = inner + Duration(child);
                inner = child.End + (Between(1, 30) * MicrosPerMilli);
            }

            step.End = inner + (Between(5, 80) * MicrosPerMilli);
            cursor = step.End + (Between(10, 100) * MicrosPerMilli);
        }

        root.End = cursor + (Between(20, 200) * MicrosPerMilli);

        var allowed = sessionEnd - treeStart - MicrosPerMilli;
        var scale = root.End > allowed && allowed > 0 ? (double)allowed / root.End : 1.0;
        foreach (var node in _tree)
        {
            node.Start = treeStart + (long)(node.Start * scale);
            node.End = treeStart + (long)(node.End * scale);
        }
    }

    private long Duration(Node node)
    {
        if (node.TimedOut)
        {
            return (node.TimeoutSeconds * MicrosPerSecond) + (Between(0, 50) * MicrosPerMilli);
        }

        if (node.Failed)
        {
            return Between(40, 1500) * MicrosPerMilli;
        }

        double millis = node.Kind switch
        {
            "llm" => LogNormal(WorkloadCatalog.ModelSpeed[node.Model].FirstTokenMs, 0.5)
                + (node.OutputTokens * 1000.0 / WorkloadCatalog.ModelSpeed[node.Model].TokensPerSecond * LogNormal(1, 0.25)),
            "tool" => LogNormal(250, 1.0),
            _ => LogNormal(120, 0.6),
        };
        return (long)(Math.Min(millis, 600_000) * MicrosPerMilli) + 1;
    }

    private void AddHeartbeats(SessionPlan session)
    {
        for (var time = session.StartMicros + HeartbeatMicros; time < session.EndMicros; time += HeartbeatMicros)
        {
            AddEvent("heartbeat", time, session.Id, null, session.Runner, string.Concat(
                "{\"runner\":\"", session.Runner,
                "\",\"queue_depth\":", Inv(_random.Next(0, 40)),
                ",\"rss_mb\":", Inv(_random.Next(300, 1400)), "}"));
        }
    }

    private void AddRunEvents(Node node, SessionPlan session)
    {
        if (node.TimedOut)
        {
            AddEvent("timeout_triggered", node.End, session.Id, node.Id, node.Name, string.Concat(
                "{\"limit_seconds\":", Inv(node.TimeoutSeconds), ",\"kind\":\"", node.Kind, "\"}"));
        }
        else if (node.Failed && _random.NextDouble() < 0.4)
        {
            AddEvent("intervention_request", node.End + (Between(2, 30) * MicrosPerSecond), session.Id, node.Id, node.Name, string.Concat(
                "{\"reason\":\"", node.Kind, " failed: ", node.Error!.Type, "\",\"action\":\"approve_retry\",\"attempts\":", Inv(1 + _random.Next(3)), "}"));
        }
        else if (node.Kind == "llm" && !node.Failed && _random.NextDouble() < 0.02)
        {
            var score = 1 + _random.Next(5);
            AddEvent("user_feedback", node.End + (Between(5, 900) * MicrosPerSecond), session.Id, node.Id, null, string.Concat(
                "{\"score\":", Inv(score), ",\"thumbs\":\"", score >= 3 ? "up" : "down",
                "\",\"comment\":\"", Snippet(40 + _random.Next(160)), "\"}"));
        }
    }

    private void AddEvent(string type, long time, string sessionId, string? runId, string? name, string data)
    {
        _events.Add(new EventPayload
        {
            Type = type,
            Time = ToTime(time),
            SessionId = sessionId,
            RunId = runId,
            Name = name,
            Data = new RawJson(data),
            IdempotencyKey = string.Concat("workload-", Inv(_options.Seed), "-", Inv(_eventCounter++)),
        });
    }

    private SessionPayload ToPayload(SessionPlan plan) => new()
    {
        Id = plan.Id,
        Name = plan.Name,
        StartedAt = ToTime(plan.StartMicros),
        EndedAt = ToTime(plan.EndMicros),
        State = plan.Failed ? SessionStates.Failed : SessionStates.Completed,
        Metadata = plan.Metadata,
    };

    /// <summary>A UUIDv7 for a time, with its random bits from the seeded generator so it repeats.</summary>
    private string NewId(long micros)
    {
        Span<byte> bytes = stackalloc byte[16];
        _random.NextBytes(bytes[6..]);
        var millis = micros / MicrosPerMilli;
        for (var i = 5; i >= 0; i--)
        {
            bytes[i] = (byte)millis;
            millis >>= 8;
        }

        bytes[6] = (byte)(0x70 | (bytes[6] & 0x0F));
        bytes[8] = (byte)(0x80 | (bytes[8] & 0x3F));
        return new Guid(bytes, bigEndian: true).ToString("D", CultureInfo.InvariantCulture);
    }

    private static long ToMicros(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond;

    private static DateTimeOffset ToTime(long micros) =>
        new(DateTimeOffset.UnixEpoch.UtcTicks + (micros * TimeSpan.TicksPerMicrosecond), TimeSpan.Zero);

    private long Between(int min, int max) => _random.Next(min, max + 1);

    private double LogNormal(double median, double sigma) => median * Math.Exp(sigma * Normal());

    private double Normal() =>
        Math.Sqrt(-2 * Math.Log(1 - _random.NextDouble())) * Math.Cos(2 * Math.PI * _random.NextDouble());

    private T Pick<T>(T[] items) => items[_random.Next(items.Length)];

    private static string Inv(int value) => value.ToString(CultureInfo.InvariantCulture);
}
