using RunLedger.Server.Hosting;

namespace RunLedger.Server.Tests.Hosting;

public sealed class StoreLocationTests
{
    [Theory]
    [InlineData("postgres://ledger:secret@db:5432/runledger")]
    [InlineData("postgresql://db/runledger")]
    [InlineData("Host=db;Database=runledger;Username=ledger;Password=secret")]
    [InlineData("Server=db;Database=runledger")]
    public void Parse_PostgresForms_ArePostgres(string text)
    {
        var location = StoreLocation.Parse(text, "/base");
        location.Engine.ShouldBe(StoreEngine.Postgres);
        location.Value.ShouldBe(text);
    }

    [Theory]
    [InlineData("ledger.db", "/base/ledger.db")]
    [InlineData("sqlite:data/ledger.db", "/base/data/ledger.db")]
    [InlineData("sqlite:///var/ledger.db", "/var/ledger.db")]
    [InlineData("/var/lib/runledger/runledger.db", "/var/lib/runledger/runledger.db")]
    public void Parse_FilePaths_AreSqliteResolvedAgainstBase(string text, string expected)
    {
        var location = StoreLocation.Parse(text, "/base");
        location.Engine.ShouldBe(StoreEngine.Sqlite);
        location.Value.ShouldBe(expected);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("mysql://db/x", "'mysql://' is not a store")]
    [InlineData("sqlite:", "names no file")]
    public void Parse_Unusable_SaysWhatIsAccepted(string text, string expected)
    {
        var error = Should.Throw<FormatException>(() => StoreLocation.Parse(text, "/base"));
        error.Message.ShouldContain(expected);
    }

    [Fact]
    public void Redacted_HidesPasswords()
    {
        StoreLocation.Parse("postgres://ledger:secret@db/runledger", "/").Redacted().ShouldBe("postgres://ledger:***@db/runledger");
        StoreLocation.Parse("Host=db;Password=secret;Database=x", "/").Redacted().ShouldBe("Host=db;Password=***;Database=x");
    }
}
