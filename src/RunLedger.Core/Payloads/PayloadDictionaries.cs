using System.Collections.Concurrent;

namespace RunLedger.Core.Payloads;

/// <summary>
/// The compression dictionaries of one ledger: every one it has stored (bodies name theirs by id,
/// and old bodies keep the dictionary they were written with, so none is ever replaced) and the
/// current one new bodies are compressed with. Thread-safe.
/// </summary>
public sealed class PayloadDictionaries : IDisposable
{
    private readonly ConcurrentDictionary<uint, PayloadDictionary> _known = new();
    private readonly Func<uint, PayloadDictionary?>? _load;
    private volatile PayloadDictionary? _current;

    /// <param name="load">Reads a dictionary the set does not hold yet (one another process stored), or null.</param>
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
            _current = held;
        }
    }

    /// <summary>True when a dictionary with this id is held (ids are unique within a ledger).</summary>
    public bool Contains(uint id) => _known.ContainsKey(id);

    /// <summary>The dictionary with this id, loaded on first use; null when the ledger has none by that id.</summary>
    public PayloadDictionary? Find(uint id)
    {
        if (_known.TryGetValue(id, out var dictionary))
        {
            return dictionary;
        }

        var loaded = _load?.Invoke(id);
        if (loaded is null || loaded.Id != id)
        {
            loaded?.Dispose();
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
