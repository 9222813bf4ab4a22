using RunLedger.Core.Model;
using RunLedger.Core.Query;
using static RunLedger.Core.Tests.Query.FilterAst;

namespace RunLedger.Core.Tests.Query;

/// <summary>Property tests with a seeded generator: print/parse round trips and garbage never crashes.</summary>
public sealed class FilterRoundTripTests
{
    private const int Iterations = 2500;

    private const string Alphabet = "abcxyzABC019_-./:=<>!*?[]()\"\\ \t'%;éß漢";

    [Theory]
    [InlineData(1)]
    [InlineData(42)]
    [InlineData(20261101)]
    [InlineData(987654321)]
    public void Print_RandomAst_ParsesBackToSameAst(int seed)
    {
        var random = new Random(seed);
        foreach (var target in Enum.GetValues<FilterTarget>())
        {
            for (var i = 0; i < Iterations; i++)
            {
                var node = new Generator(random, target).Node(0);
                var printed = FilterPrinter.Print(node);

                FilterNode? parsed;
                try
                {
                    parsed = FilterParser.Parse(printed, target);
                }
                catch (FilterSyntaxException ex)
                {
                    throw new InvalidOperationException($"seed {seed} #{i} {target}: '{printed}' failed to parse: {ex.Message}", ex);
                }

                var expected = Dump(node);
                var actual = Dump(parsed);
                actual.ShouldBe(expected, $"seed {seed} #{i} {target}: printed '{printed}'");
                FilterPrinter.Print(parsed!).ShouldBe(printed);
            }
        }
    }

    [Theory]
    [InlineData(7)]
    [InlineData(1234)]
    [InlineData(99991)]
    public void Parse_RandomGarbage_ThrowsOnlyFilterSyntaxException(int seed)
    {
        var random = new Random(seed);
        var fragments = new[] { "status:", "cost<", "OR ", "AND ", "NOT ", "-", "(", ")", "\"", "metadata.", "started>", "-24h", "2026-11-01", "*", " " };
        for (var i = 0; i < Iterations * 2; i++)
        {
            var length = random.Next(0, 24);
            var chars = new System.Text.StringBuilder();
            while (chars.Length < length)
            {
                if (random.Next(3) == 0)
                {
                    chars.Append(fragments[random.Next(fragments.Length)]);
                }
                else
                {
                    chars.Append(Alphabet[random.Next(Alphabet.Length)]);
                }
            }

            var text = chars.ToString();
            foreach (var target in Enum.GetValues<FilterTarget>())
            {
                try
                {
                    var node = FilterParser.Parse(text, target);
                    if (node is not null)
                    {
                        // Whatever parses must print and parse back to the same tree.
                        Dump(FilterParser.Parse(FilterPrinter.Print(node), target)).ShouldBe(Dump(node), text);
                    }
                }
                catch (FilterSyntaxException ex)
                {
                    ex.Position.ShouldBeInRange(0, text.Length, text);
                    ex.Message.ShouldStartWith($"column {ex.Column}: ");
                }
            }
        }
    }

    private sealed class Generator
    {
        private readonly Random _random;
        private readonly FilterTarget _target;
        private readonly IReadOnlyList<FilterField> _fields;

        public Generator(Random random, FilterTarget target)
        {
            _random = random;
            _target = target;
            _fields = FilterFields.For(target);
        }

        public FilterNode Node(int depth)
        {
            var choice = depth >= 4 ? _random.Next(4) : _random.Next(7);
            return choice switch
            {
                0 or 1 or 2 => FieldTerm(),
                3 => new TextFilter(RandomText(1)),
                4 => new AndFilter(Terms(depth)),
                5 => new OrFilter(Terms(depth)),
                _ => new NotFilter(Node(depth + 1)),
            };
        }

        private List<FilterNode> Terms(int depth)
        {
            var count = _random.Next(2, 5);
            var terms = new List<FilterNode>(count);
            for (var i = 0; i < count; i++)
            {
                terms.Add(Node(depth + 1));
            }

            return terms;
        }

        private FieldFilter FieldTerm()
        {
            var field = _fields[_random.Next(_fields.Count)];
            var eq = _random.Next(2) == 0 ? CompareOp.Equal : CompareOp.NotEqual;
            var any = (CompareOp)_random.Next(6);
            var ordering = (CompareOp)_random.Next(2, 6);
            switch (field.Type)
            {
                case FilterFieldType.Enum:
                    return new FieldFilter(field.Name, null, eq, S(field.Values[_random.Next(field.Values.Count)]));
                case FilterFieldType.Boolean:
                    return new FieldFilter(field.Name, null, eq, S(_random.Next(2) == 0 ? "true" : "false"));
                case FilterFieldType.Id:
                    return new FieldFilter(field.Name, null, eq, S(RandomGuid().ToString("D")));
                case FilterFieldType.String:
                case FilterFieldType.Tag:
                    return new FieldFilter(field.Name, null, eq, RandomString());
                case FilterFieldType.Number:
                    return new FieldFilter(field.Name, null, any, new NumberValue(RandomDecimal()));
                case FilterFieldType.Duration:
                    return new FieldFilter(field.Name, null, any, new DurationValue(RandomDuration()));
                case FilterFieldType.Time:
                    FilterValue time = _random.Next(2) == 0
                        ? new RelativeTimeValue(-RandomDuration())
                        : new TimeValue(RandomTime());
                    return new FieldFilter(field.Name, null, ordering, time);
                default:
                    var key = RandomKey();
                    return _random.Next(2) == 0
                        ? new FieldFilter(field.Name, key, any, new NumberValue(RandomDecimal()))
                        : new FieldFilter(field.Name, key, eq, RandomString());
            }
        }

        private StringValue RandomString()
        {
            var text = RandomText(1);
            if (_random.Next(3) != 0)
            {
                return new StringValue(text, false);
            }

            var at = _random.Next(text.Length + 1);
            var pattern = text[..at] + "*" + text[at..];
            if (_random.Next(2) == 0)
            {
                pattern += "*";
            }

            return new StringValue(pattern, true);
        }

        private string RandomText(int min)
        {
            var length = _random.Next(min, 12);
            var chars = new char[length];
            for (var i = 0; i < length; i++)
            {
                do
                {
                    chars[i] = _random.Next(10) == 0 ? (char)_random.Next(32, 0xD000) : Alphabet[_random.Next(Alphabet.Length)];
                }
                while (chars[i] == '*');
            }

            var text = new string(chars);
            return _random.Next(20) == 0 ? (_random.Next(2) == 0 ? "OR" : "NOT") : text;
        }

        private string RandomKey()
        {
            const string keyChars = "abcdefghijklmnopqrstuvwxyzABC0123456789_.-";
            var length = _random.Next(1, 10);
            return new string(Enumerable.Range(0, length).Select(_ => keyChars[_random.Next(keyChars.Length)]).ToArray());
        }

        private decimal RandomDecimal() => _random.Next(4) switch
        {
            0 => _random.Next(0, 1000),
            1 => Math.Round((decimal)_random.NextDouble() * 10, _random.Next(0, 9)),
            2 => -_random.Next(1, 100_000),
            _ => new decimal(_random.Next(), _random.Next(), 0, _random.Next(2) == 0, (byte)_random.Next(0, 12)),
        };

        private TimeSpan RandomDuration() => _random.Next(3) switch
        {
            0 => TimeSpan.FromMilliseconds(_random.Next(0, 100_000)),
            1 => TimeSpan.FromTicks(_random.NextInt64(0, TimeSpan.TicksPerDay * 400)),
            _ => TimeSpan.FromHours(_random.Next(0, 200)),
        };

        private DateTimeOffset RandomTime()
        {
            var start = Utc(1970, 1, 1).UtcTicks;
            var end = Utc(2100, 1, 1).UtcTicks;
            var ticks = _random.NextInt64(start, end);
            return _random.Next(3) switch
            {
                0 => new DateTimeOffset(new DateTime(ticks, DateTimeKind.Utc).Date, TimeSpan.Zero),
                1 => new DateTimeOffset(ticks - (ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero),
                _ => new DateTimeOffset(ticks, TimeSpan.Zero).ToOffset(TimeSpan.FromHours(_random.Next(-12, 14))),
            };
        }

        private Guid RandomGuid()
        {
            var bytes = new byte[16];
            _random.NextBytes(bytes);
            return new Guid(bytes);
        }
    }

    [Fact]
    public void FieldCatalogue_EnumsComeFromWireNames()
    {
        FilterFields.Find(FilterTarget.Runs, "status")!.Values.ShouldBe(WireNames.Statuses);
        FilterFields.Find(FilterTarget.Runs, "kind")!.Values.ShouldBe(WireNames.Kinds);
        FilterFields.Find(FilterTarget.Sessions, "state")!.Values.ShouldBe(SessionStates.All);
    }
}
