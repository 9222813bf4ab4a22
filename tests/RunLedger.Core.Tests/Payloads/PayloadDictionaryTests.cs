using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using RunLedger.Core.Payloads;

namespace RunLedger.Core.Tests.Payloads;

public sealed class PayloadDictionaryTests
{
    private static readonly PayloadOptions Small = new() { DictionarySampleBytes = 64 * 1024, DictionaryMaxBytes = 8 * 1024 };

    [Fact]
    public void Encode_WithDictionary_IsOneFrameNamingItAndDecodesBack()
    {
        using var dictionary = Trained(1);
        var dictionaries = new PayloadDictionaries();
        dictionaries.Add(dictionary, makeCurrent: true);

        foreach (var text in new[] { Body(7, 1), Body(8, 40), "\"You are a careful support agent for Acme.\"" })
        {
            var utf8 = Encoding.UTF8.GetBytes(text);
            var encoded = PayloadCodec.Encode(utf8, SHA256.HashData(utf8), Small, dictionary);

            encoded.Encoding.ShouldBe(PayloadEncoding.ZstdDictionary);
            encoded.Hash.ShouldBe(SHA256.HashData(utf8));
            encoded.Data.Length.ShouldBeLessThan(utf8.Length);
            PayloadDictionary.FrameDictionaryId(encoded.Data).ShouldBe(dictionary.Id);
            PayloadCodec.Decode(encoded.Encoding, encoded.Data, dictionaries).ShouldBe(text);
        }
    }

    [Fact]
    public void Encode_WithDictionary_CompressesTemplatedBodiesFarBetterThanBrotliAlone()
    {
        using var dictionary = Trained(1);
        long brotli = 0, zstd = 0;
        for (var i = 100; i < 200; i++)
        {
            var utf8 = Encoding.UTF8.GetBytes(Body(i, 3));
            brotli += PayloadCodec.Encode(utf8, SHA256.HashData(utf8), Small).Data.Length;
            zstd += PayloadCodec.Encode(utf8, SHA256.HashData(utf8), Small, dictionary).Data.Length;
        }

        zstd.ShouldBeLessThan(brotli / 2);
    }

    [Fact]
    public void Decode_DictionaryNotHeld_ThrowsAndStoredBodyReportsItUnreadable()
    {
        using var dictionary = Trained(1);
        var utf8 = Encoding.UTF8.GetBytes(Body(3, 2));
        var encoded = PayloadCodec.Encode(utf8, SHA256.HashData(utf8), Small, dictionary);

        Should.Throw<InvalidDataException>(() => PayloadCodec.Decode(encoded.Encoding, encoded.Data))
            .Message.ShouldContain(dictionary.Id.ToString(CultureInfo.InvariantCulture));
        Should.Throw<InvalidDataException>(() => PayloadCodec.Decode(encoded.Encoding, encoded.Data, new PayloadDictionaries()));

        var (body, info) = StoredBody.Read(encoded.Encoding, encoded.Data, utf8.Length, encoded.HashHex, false, new PayloadDictionaries());
        body.ShouldBeNull();
        info.Unreadable.ShouldNotBeNull();
    }

    [Fact]
    public void Find_DictionaryMissingOrDamaged_IsLookedUpOnceNotForEveryBody()
    {
        using var dictionary = Trained(1);
        var loads = new Dictionary<uint, int>();
        using var dictionaries = new PayloadDictionaries(id =>
        {
            loads[id] = loads.GetValueOrDefault(id) + 1;
            return id switch
            {
                40_000 => new PayloadDictionary(dictionary.Data.ToArray(), 3),
                50_000 => throw new InvalidDataException("damaged"),
                _ => null,
            };
        });
        var utf8 = Encoding.UTF8.GetBytes(Body(3, 2));
        var encoded = PayloadCodec.Encode(utf8, SHA256.HashData(utf8), Small, dictionary);

        for (var i = 0; i < 100; i++)
        {
            dictionaries.Find(60_000).ShouldBeNull();
            dictionaries.Find(50_000).ShouldBeNull();
            PayloadCodec.Decode(encoded.Encoding, encoded.Data, dictionaries).ShouldBe(Body(3, 2));
        }

        loads.ShouldBe(new Dictionary<uint, int> { [40_000] = 1, [50_000] = 1, [60_000] = 1 }, ignoreOrder: true);

        // A lost dictionary's id is not given to a new one: its bodies would decode with the wrong one.
        dictionaries.Contains(60_000).ShouldBeTrue();
    }

    [Fact]
    public void Find_ReadFailsOnce_IsTriedAgainNextTime()
    {
        using var dictionary = Trained(1);
        var calls = 0;
        using var dictionaries = new PayloadDictionaries(id =>
            ++calls == 1 ? throw new BusyException() : new PayloadDictionary(dictionary.Data.ToArray(), 3));

        dictionaries.Find(dictionary.Id).ShouldBeNull();
        dictionaries.Find(dictionary.Id).ShouldNotBeNull();
        dictionaries.Find(dictionary.Id).ShouldNotBeNull();
        calls.ShouldBe(2);
    }

    [Fact]
    public void Add_NewCurrentDictionary_ReleasesThePreviousOnesContextsAndItStillReads()
    {
        var dictionaries = new PayloadDictionaries();
        using var old = Trained(1, id: 40_000);
        using var next = Trained(2, id: 40_001);
        dictionaries.Add(old, makeCurrent: true);
        var utf8 = Encoding.UTF8.GetBytes(Body(4, 2));
        var encoded = PayloadCodec.Encode(utf8, SHA256.HashData(utf8), Small, old);
        PayloadCodec.Decode(encoded.Encoding, encoded.Data, dictionaries).ShouldBe(Body(4, 2));
        old.PooledContexts.ShouldBe(2);

        dictionaries.Add(next, makeCurrent: true);

        old.PooledContexts.ShouldBe(0);
        PayloadCodec.Decode(encoded.Encoding, encoded.Data, dictionaries).ShouldBe(Body(4, 2));
        old.PooledContexts.ShouldBe(1);
    }

    [Fact]
    public void TrimIdle_OldDictionaryNotReadSinceTheLastTrim_ReleasesItsContextsAndTheCurrentKeepsTheirs()
    {
        var dictionaries = new PayloadDictionaries();
        using var old = Trained(1, id: 40_000);
        using var current = Trained(2, id: 40_001);
        dictionaries.Add(old, makeCurrent: false);
        dictionaries.Add(current, makeCurrent: true);
        var utf8 = Encoding.UTF8.GetBytes(Body(4, 2));
        var oldBody = PayloadCodec.Encode(utf8, SHA256.HashData(utf8), Small, old);
        var newBody = PayloadCodec.Encode(utf8, SHA256.HashData(utf8), Small, current);
        PayloadCodec.Decode(oldBody.Encoding, oldBody.Data, dictionaries);
        PayloadCodec.Decode(newBody.Encoding, newBody.Data, dictionaries);

        dictionaries.TrimIdle();
        old.PooledContexts.ShouldBe(2);

        // Not read since that trim: released.
        dictionaries.TrimIdle();
        old.PooledContexts.ShouldBe(0);
        current.PooledContexts.ShouldBe(2);
        PayloadCodec.Decode(oldBody.Encoding, oldBody.Data, dictionaries).ShouldBe(Body(4, 2));
    }

    [Fact]
    public async Task Decompress_ManyCallersAtOnce_PoolsAtMostTheBound()
    {
        using var dictionary = Trained(1);
        var utf8 = Encoding.UTF8.GetBytes(Body(4, 2));
        var frame = dictionary.Compress(utf8);
        using var start = new Barrier(64);
        var callers = Enumerable.Range(0, 64).Select(_ => Task.Factory.StartNew(
            () =>
            {
                start.SignalAndWait(TimeSpan.FromSeconds(30));
                for (var i = 0; i < 200; i++)
                {
                    dictionary.Decompress(frame);
                }
            },
            TaskCreationOptions.LongRunning));
        await Task.WhenAll(callers);

        dictionary.PooledContexts.ShouldBeLessThanOrEqualTo(PayloadDictionary.MaxPooledContexts + 1);
    }

    [Fact]
    public void Decode_FrameOfAnotherDictionaryWithTheSameId_FailsCleanly()
    {
        // Damage, or a body copied from another ledger whose dictionary happened to get the same id.
        using var first = Trained(1, id: 50_000);
        using var other = PayloadDictionary.Train(Samples(2, words: ["zebra", "quartz", "violin", "nebula"]), Small.DictionaryMaxBytes, 50_000, 3)!;
        var dictionaries = new PayloadDictionaries();
        dictionaries.Add(other, makeCurrent: false);
        var utf8 = Encoding.UTF8.GetBytes(Body(5, 4));
        var encoded = PayloadCodec.Encode(utf8, SHA256.HashData(utf8), Small, first);

        var (body, info) = StoredBody.Read(encoded.Encoding, encoded.Data, utf8.Length, encoded.HashHex, false, dictionaries);
        body.ShouldBeNull();
        info.Unreadable.ShouldNotBeNull();
    }

    [Fact]
    public void Reencode_BrotliBody_BecomesADictionaryFrameOfTheSameText()
    {
        using var dictionary = Trained(1);
        var dictionaries = new PayloadDictionaries();
        dictionaries.Add(dictionary, makeCurrent: true);
        var text = Body(11, 6);
        var utf8 = Encoding.UTF8.GetBytes(text);
        var brotli = PayloadCodec.Encode(utf8, SHA256.HashData(utf8), Small);
        brotli.Encoding.ShouldBe(PayloadEncoding.Brotli);

        var again = PayloadCodec.Reencode(brotli, Small, dictionary);

        again.Encoding.ShouldBe(PayloadEncoding.ZstdDictionary);
        again.Hash.ShouldBe(brotli.Hash);
        again.OriginalSize.ShouldBe(brotli.OriginalSize);
        PayloadCodec.Decode(again.Encoding, again.Data, dictionaries).ShouldBe(text);
        PayloadCodec.Reencode(again, Small, dictionary).ShouldBeSameAs(again);
    }

    [Fact]
    public void Encode_TruncatedBodyWithDictionary_KeepsTheMarker()
    {
        using var dictionary = Trained(1);
        var dictionaries = new PayloadDictionaries();
        dictionaries.Add(dictionary, makeCurrent: true);
        var options = new PayloadOptions { MaxBodyBytes = 2048, TruncatedHeadBytes = 512, DictionarySampleBytes = 64 * 1024, DictionaryMaxBytes = 8 * 1024 };
        var utf8 = Encoding.UTF8.GetBytes(Body(2, 30));

        var encoded = PayloadCodec.Encode(utf8, SHA256.HashData(utf8), options, dictionary);

        encoded.Truncated.ShouldBeTrue();
        encoded.Encoding.ShouldBe(PayloadEncoding.ZstdDictionary);
        TruncationMarker.TryParse(PayloadCodec.Decode(encoded.Encoding, encoded.Data, dictionaries), out var marker).ShouldBeTrue();
        marker!.OriginalBytes.ShouldBe(utf8.Length);
    }

    [Fact]
    public void Trainer_FirstSampleComplete_TrainsOnTheCallersThreadOnce()
    {
        var dictionaries = new PayloadDictionaries();
        var trainer = new PayloadDictionaryTrainer(Small, dictionaries);
        var i = 0;
        while (trainer.TakeTrained() is null)
        {
            i.ShouldBeLessThan(10_000);
            trainer.Offer(Encoding.UTF8.GetBytes(Body(i++, 2)));
        }

        trainer.Trainings.ShouldBe(1);
        trainer.TakeTrained().ShouldBeNull();
        (i * 400).ShouldBeGreaterThan(Small.DictionarySampleBytes / 2);
    }

    [Fact]
    public void Trainer_DictionariesOff_NeverTrains()
    {
        var options = new PayloadOptions { UseDictionaries = false, DictionarySampleBytes = 64 * 1024, DictionaryMaxBytes = 8 * 1024 };
        var trainer = new PayloadDictionaryTrainer(options, new PayloadDictionaries());
        for (var i = 0; i < 2000; i++)
        {
            trainer.Offer(Encoding.UTF8.GetBytes(Body(i, 2)));
        }

        trainer.TakeTrained().ShouldBeNull();
        trainer.Trainings.ShouldBe(0);
    }

    [Fact]
    public void Options_DictionaryLimits_AreValidated()
    {
        new PayloadOptions { DictionaryCompressionLevel = 0, DictionaryMaxBytes = 100, DictionarySampleBytes = 500, DictionaryRetrainBytes = 0, DictionaryThresholdBytes = -1 }
            .Validate().Count.ShouldBe(5);
        new PayloadOptions().Validate().ShouldBeEmpty();
    }

    private static PayloadDictionary Trained(int seed, uint id = 40_000) =>
        PayloadDictionary.Train(Samples(seed), Small.DictionaryMaxBytes, id, 3) ?? throw new InvalidOperationException("no dictionary");

    private static List<byte[]> Samples(int seed, string[]? words = null)
    {
        var samples = new List<byte[]>();
        for (var i = 0; i < 400; i++)
        {
            samples.Add(Encoding.UTF8.GetBytes(Body((seed * 1000) + i, 2, words)));
        }

        return samples;
    }

    /// <summary>A chat-style body: a fixed system prompt and template, varying details.</summary>
    internal static string Body(int n, int turns, string[]? words = null)
    {
        words ??= ["refund", "invoice", "shipping", "order", "customer", "policy", "delivery", "account"];
        var random = new Random(n);
        var text = new StringBuilder("{\"messages\":[{\"role\":\"system\",\"content\":\"You are a careful support agent for Acme. Answer in two sentences, cite the policy section, never promise a refund you cannot grant.\"}");
        for (var t = 0; t < turns; t++)
        {
            text.Append(CultureInfo.InvariantCulture, $",{{\"role\":\"user\",\"content\":\"Ticket {random.Next(100_000)}: the {words[random.Next(words.Length)]} for {words[random.Next(words.Length)]} #{random.Next(10_000)} is late, please check the {words[random.Next(words.Length)]}.\"}}");
        }

        return text.Append("],\"temperature\":0.2,\"model\":\"gpt-4o-mini\"}").ToString();
    }

    private sealed class BusyException : System.Data.Common.DbException
    {
        public BusyException()
            : base("database is locked")
        {
        }
    }
}
