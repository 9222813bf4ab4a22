using System.Collections.Concurrent;
using System.Data.Common;

namespace RunLedger.Core.Payloads;

/// <summary>
/// The compression dictionaries of one ledger: every one it has stored (bodies name theirs by id,
/// and old bodies keep the dictionary they were written with, so none is ever replaced) and the
/// current one new bodies are compressed with. Thread-safe. Only the current dictionary keeps its
/// zstd contexts for good: an older one releases them when superseded and when idle (<see cref="TrimIdle"/>).
/// </summary>
public sealed class PayloadDictionaries : IDisposable
{
    private readonly ConcurrentDictionary<uint, PayloadDictionary> _known = new();
    private readonly ConcurrentDictionary<uint, byte> _missing = new();
    private readonly Func<uint, PayloadDictionary?>? _load;
    private volatile PayloadDictionary? _current;

    /// <param name="load">
    /// Reads a dictionary the set does not hold yet (one another process stored): null when the ledger
    /// has none by that id, <see cref="InvalidDataException"/> when its row is damaged (both remembered:
    /// dictionaries are never changed or removed, so a ledger that lost one does not look it up again
    /// for every body), <see cref="DbException"/> when it could not be read this time (not remembered).
    /// </param>
    public PayloadDictionaries(Func<uint, PayloadDictionary?>? load = null)
    {
        _load = load;
    }

    /// <summary>The dictionary new bodies are compressed with; null until the ledger has one.</summary>
    public PayloadDictionary? Current => _current;

    /// <summary>How many dictionaries the set holds.</summary>
    public int Count => _known.Count;

    /// <summary>Adds a stored dictionary; <paramref name="makeCurrent"/> makes new bodies use it.</summary>
    public void Add(PayloadDictionary dictionary, bool makeCurrent)
    {
        ArgumentNullException.ThrowIfNull(dictionary);
        var held = _known.GetOrAdd(dictionary.Id, dictionary);
        if (!ReferenceEquals(held, dictionary))
        {
            dictionary.Dispose();
        }

        if (makeCurrent)
        {
            var previous = _current;
            _current = held;

            // Nothing is compressed with the previous one any more; reads make new contexts as they need.
            if (previous is not null && !ReferenceEquals(previous, held))
            {
                previous.ReleaseContexts();
            }
        }
    }

    /// <summary>
    /// Releases the pooled contexts of every dictionary but the current one that was not used since
    /// the previous call (bodies of old dictionaries are read now and then; their contexts need not
    /// stay). The store calls it now and then.
    /// </summary>
    public void TrimIdle()
    {
        var current = _current;
        foreach (var dictionary in _known.Values)
        {
            if (!ReferenceEquals(dictionary, current) && !dictionary.TakeUsed())
            {
                dictionary.ReleaseContexts();
            }
        }
    }

    /// <summary>True when a dictionary with this id is held, or is known to be missing (ids are unique within a ledger, lost ones included).</summary>
    public bool Contains(uint id) => _known.ContainsKey(id) || _missing.ContainsKey(id);

    /// <summary>The dictionary with this id, loaded on first use; null when the ledger has none by that id (or it could not be read).</summary>
    public PayloadDictionary? Find(uint id)
    {
        if (_known.TryGetValue(id, out var dictionary))
        {
            return dictionary;
        }

        if (_load is null || _missing.ContainsKey(id))
        {
            return null;
        }

        PayloadDictionary? loaded;
        try
        {
            loaded = _load(id);
        }
        catch (InvalidDataException)
        {
            loaded = null;
        }
        catch (DbException)
        {
            // Perhaps busy or briefly unreadable: this body reads as unreadable, the next one tries again.
            return null;
        }

        if (loaded is null || loaded.Id != id)
        {
            loaded?.Dispose();
            _missing.TryAdd(id, 0);
            return null;
        }

        Add(loaded, makeCurrent: false);
        return _known[id];
    }

    public void Dispose()
    {
        foreach (var dictionary in _known.Values)
        {
            dictionary.Dispose();
        }

        _known.Clear();
    }
}
