namespace RunLedger.Conformance;

/// <summary>
/// A clock that stands still until a test moves it, so relative times such as <c>started&gt;-24h</c>
/// resolve the same way on every run. Written here because no fake time provider package is
/// available to the tests.
/// </summary>
public sealed class ManualTimeProvider(DateTimeOffset now) : TimeProvider
{
    private DateTimeOffset _now = now;

    public override DateTimeOffset GetUtcNow() => _now;

    /// <summary>Moves the clock forward (or back, with a negative span).</summary>
    public void Advance(TimeSpan by) => _now += by;
}
