using System.Data.Common;
using RunLedger.Core.Storage;

namespace RunLedger.Core.Tests.Storage;

public sealed class StoreUnavailableExceptionTests
{
    [Fact]
    public void IsUnavailable_StoreUnavailableAnywhereInTheChain_IsTrue()
    {
        StoreUnavailableException.IsUnavailable(new StoreUnavailableException("down")).ShouldBeTrue();
        StoreUnavailableException.IsUnavailable(new InvalidOperationException("wrapped", new StoreUnavailableException("down"))).ShouldBeTrue();
        StoreUnavailableException.IsUnavailable(new AggregateException(new ArgumentException("x"), new StoreUnavailableException("down"))).ShouldBeTrue();
    }

    [Fact]
    public void IsUnavailable_ProviderErrorMarkedTransient_IsTrue()
    {
        StoreUnavailableException.IsUnavailable(new ProviderException(transient: true)).ShouldBeTrue();
        StoreUnavailableException.IsUnavailable(new IOException("wrapped", new ProviderException(transient: true))).ShouldBeTrue();
    }

    [Fact]
    public void IsUnavailable_PermanentErrors_IsFalse()
    {
        StoreUnavailableException.IsUnavailable(null).ShouldBeFalse();
        StoreUnavailableException.IsUnavailable(new ProviderException(transient: false)).ShouldBeFalse();
        StoreUnavailableException.IsUnavailable(new InvalidOperationException("bug")).ShouldBeFalse();
        StoreUnavailableException.IsUnavailable(new AggregateException(new ArgumentException("x"))).ShouldBeFalse();
    }

    /// <summary>A provider error whose provider decides whether it is transient, as Npgsql and Microsoft.Data.Sqlite do.</summary>
    private sealed class ProviderException(bool transient) : DbException("provider error")
    {
        public override bool IsTransient => transient;
    }
}
