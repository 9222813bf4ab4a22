using System.Security.Cryptography;

namespace RunLedger.Core.Payloads;

/// <summary>
/// Decides when a ledger gets a (new) compression dictionary. Bodies being written are offered to
/// it. A ledger's first dictionary is trained from its first <see cref="PayloadOptions.DictionarySampleBytes"/>
/// of bodies, by the caller of <see cref="TakeTrained"/> (the store's writer, once, for a fraction of
/// a second), so bodies stop being stored without a dictionary as soon as that much was written.
/// The first bodies of a ledger are rarely typical of it, so newer dictionaries follow: after
/// 8, 64, 512 ... times the sample size of further bodies (at most every
/// <see cref="PayloadOptions.DictionaryRetrainBytes"/>), a dictionary is trained in the background
/// from bodies picked at random over that stretch, and kept only when it compresses a held-out fifth
/// of them at least 5 % smaller than the current dictionary does. The store persists a dictionary
/// from <see cref="TakeTrained"/> and only then adds it to <see cref="PayloadDictionaries"/>, so no
/// body names a dictionary that is not stored.
/// </summary>
public sealed class PayloadDictionaryTrainer
{
    /// <summary>How much of each sampled body is kept: a body's start holds its repeated structure.</summary>
    private const int MaxSampleBodyBytes = 16 * 1024;

    /// <summary>A candidate must compress the held-out bodies to at most this share of the current size.</summary>
    private const double RequiredGain = 0.95;

    /// <summary>Each stretch of bodies between two trainings is this many times the previous one.</summary>
    private const int StretchGrowth = 8;

    private readonly PayloadOptions _options;
    private readonly PayloadDictionaries _dictionaries;
    private readonly Lock _lock = new();
    private List<byte[]> _sample = [];
    private long _sampleBytes;
    private long _stretch;
    private long _bytesUntilTraining;
    private double _keepChance = 1;
    private bool _training;
    private List<byte[]>? _firstSample;
    private PayloadDictionary? _trained;

    public PayloadDictionaryTrainer(PayloadOptions options, PayloadDictionaries dictionaries)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(dictionaries);
        _options = options;
        _dictionaries = dictionaries;
        _stretch = options.DictionarySampleBytes;
        if (dictionaries.Current is not null)
        {
            // A reopened ledger: the next dictionary after one more full stretch.
            _stretch = options.DictionaryRetrainBytes;
            StartStretch();
        }
    }

    /// <summary>Dictionaries trained so far (kept or not), for tests and diagnostics.</summary>
    public int Trainings => Volatile.Read(ref _trainings);

    private int _trainings;

    /// <summary>Offers a body that is being stored (its UTF-8 bytes). Thread-safe and cheap unless the body is sampled.</summary>
    public void Offer(ReadOnlySpan<byte> body)
    {
        if (!_options.UseDictionaries || body.Length < _options.DictionaryThresholdBytes)
        {
            return;
        }

        if (Volatile.Read(ref _bytesUntilTraining) > 0)
        {
            var left = Interlocked.Add(ref _bytesUntilTraining, -body.Length);
            if (left > 0)
            {
                if (Random.Shared.NextDouble() < Volatile.Read(ref _keepChance))
                {
                    lock (_lock)
                    {
                        Keep(body);
                    }
                }

                return;
            }

            if (left + body.Length > 0)
            {
                // This body ends the stretch: train from what was picked over it.
                List<byte[]> picked;
                lock (_lock)
                {
                    picked = TakeSample();
                    _training = true;
                }

                TrainInBackground(picked);
            }

            return;
        }

        lock (_lock)
        {
            if (_training || _trained is not null || _firstSample is not null || _dictionaries.Current is not null)
            {
                return;
            }

            Keep(body);
            if (_sampleBytes >= _options.DictionarySampleBytes)
            {
                _firstSample = TakeSample();
            }
        }
    }

    /// <summary>
    /// Starts a training on the thread pool. A method of its own because a lambda that captures a
    /// local of <see cref="Offer"/> made the compiler allocate its closure on every call of
    /// <see cref="Offer"/> (every body written), not only when a training starts.
    /// </summary>
    private void TrainInBackground(List<byte[]> picked) => _ = Task.Run(() => Train(picked));

    /// <summary>
    /// A dictionary trained and judged better than the current one, once; the caller stores it. When
    /// the first sample is complete, trains the ledger's first dictionary on the calling thread.
    /// </summary>
    public PayloadDictionary? TakeTrained()
    {
        if (Volatile.Read(ref _firstSample) is not null)
        {
            List<byte[]>? first;
            lock (_lock)
            {
                first = _firstSample;
                _firstSample = null;
                _training = first is not null;
            }

            if (first is not null)
            {
                Train(first);
            }
        }

        if (Volatile.Read(ref _trained) is null)
        {
            return null;
        }

        lock (_lock)
        {
            var trained = _trained;
            _trained = null;
            return trained;
        }
    }

    private void Keep(ReadOnlySpan<byte> body)
    {
        var kept = body[..Math.Min(body.Length, MaxSampleBodyBytes)].ToArray();
        _sample.Add(kept);
        _sampleBytes += kept.Length;
    }

    private List<byte[]> TakeSample()
    {
        var sample = _sample;
        _sample = [];
        _sampleBytes = 0;
        return sample;
    }

    private void StartStretch()
    {
        _keepChance = Math.Min(1.0, (double)_options.DictionarySampleBytes / _stretch);
        Volatile.Write(ref _bytesUntilTraining, _stretch);
    }

    private void Train(List<byte[]> sample)
    {
        PayloadDictionary? kept = null;
        try
        {
            var training = new List<byte[]>(sample.Count);
            var heldOut = new List<byte[]>(sample.Count / 5 + 1);
            for (var i = 0; i < sample.Count; i++)
            {
                (i % 5 == 4 ? heldOut : training).Add(sample[i]);
            }

            // Fewer bytes than the dictionary holds would make the dictionary little more than the sample.
            var candidate = training.Sum(b => (long)b.Length) >= _options.DictionaryMaxBytes
                ? PayloadDictionary.Train(training, _options.DictionaryMaxBytes, NewId(), _options.DictionaryCompressionLevel)
                : null;
            Interlocked.Increment(ref _trainings);
            if (candidate is not null)
            {
                var current = _dictionaries.Current;
                var baseline = current is null ? heldOut.Sum(b => (long)b.Length) : CompressedSize(current, heldOut);
                if (CompressedSize(candidate, heldOut) <= baseline * RequiredGain)
                {
                    kept = candidate;
                }
                else
                {
                    candidate.Dispose();
                }
            }
        }
        finally
        {
            lock (_lock)
            {
                _trained = kept;
                _training = false;
                _stretch = Math.Min(_options.DictionaryRetrainBytes, _stretch * StretchGrowth);
                StartStretch();
            }
        }
    }

    private static long CompressedSize(PayloadDictionary dictionary, List<byte[]> bodies) =>
        bodies.Sum(b => (long)Math.Min(b.Length, dictionary.Compress(b).Length));

    private uint NewId()
    {
        while (true)
        {
            var id = (uint)RandomNumberGenerator.GetInt32(int.MaxValue) + PayloadDictionary.MinId;
            if (!_dictionaries.Contains(id))
            {
                return id;
            }
        }
    }
}
