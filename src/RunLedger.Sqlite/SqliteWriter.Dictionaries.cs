using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using RunLedger.Core.Payloads;
using RunLedger.Core.Storage;

namespace RunLedger.Sqlite;

internal sealed partial class SqliteWriter
{
    /// <summary>Reads the ledger's dictionaries at start; the newest version is the current one.</summary>
    private void LoadDictionaries()
    {
        using (var command = _connection.CreateCommand())
        {
            command.CommandText = "SELECT data FROM payload_dictionaries ORDER BY version;";
            using var reader = command.ExecuteReader();
            PayloadDictionary? newest = null;
            while (reader.Read())
            {
                PayloadDictionary dictionary;
                try
                {
                    dictionary = new PayloadDictionary((byte[])reader.GetValue(0), _payloadOptions.DictionaryCompressionLevel);
                }
                catch (InvalidDataException ex)
                {
                    // A damaged dictionary costs the bodies that use it (read as unreadable), not
                    // the ledger: it still opens, and new bodies use the newest good dictionary.
                    Logger.LogError(ex, "A stored payload dictionary cannot be read; bodies compressed with it are reported unreadable.");
                    continue;
                }

                newest = dictionary;
                _dictionaries.Add(newest, makeCurrent: false);
            }

            if (newest is not null && _payloadOptions.UseDictionaries)
            {
                _dictionaries.Add(newest, makeCurrent: true);
            }
        }

        _trainer = new PayloadDictionaryTrainer(_payloadOptions, _dictionaries);
    }

    /// <summary>
    /// Stores a dictionary the trainer made, in the group's transaction. It becomes current only
    /// after the commit (<see cref="AdoptStoredDictionary"/>), so a body never names a dictionary
    /// that is not stored; if the group rolls back it is stored with the next one.
    /// </summary>
    private void StoreTrainedDictionary(SqliteTransaction transaction)
    {
        _storingDictionary ??= _trainer.TakeTrained();
        if (_storingDictionary is not { } dictionary)
        {
            return;
        }

        using var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText =
            "INSERT INTO payload_dictionaries (version, dictionary_id, created_at, data) " +
            "SELECT coalesce(max(version), 0) + 1, @id, @at, @data FROM payload_dictionaries " +
            "WHERE NOT EXISTS (SELECT 1 FROM payload_dictionaries WHERE dictionary_id = @id);";
        command.Parameters.AddWithValue("@id", (long)dictionary.Id);
        command.Parameters.AddWithValue("@at", StorageUnits.ToMicros(_time.GetUtcNow()));
        command.Parameters.AddWithValue("@data", dictionary.Data.ToArray());
        if (command.ExecuteNonQuery() == 0)
        {
            // Another process stored a dictionary with the same random id: drop this one.
            dictionary.Dispose();
            _storingDictionary = null;
            return;
        }

        // Known (not current) at once: bodies this group writes with it may be read back within
        // the group (the full-text index), before the commit lets other connections see its row.
        _dictionaries.Add(dictionary, makeCurrent: false);
    }

    /// <summary>
    /// At most once a minute, after a commit: releases the zstd contexts of dictionaries no longer
    /// current and unused since the previous trim (old bodies read now and then make new ones).
    /// </summary>
    private void TrimDictionaries()
    {
        var now = _time.GetUtcNow();
        if (now < _nextDictionaryTrim)
        {
            return;
        }

        _nextDictionaryTrim = now + DictionaryTrimInterval;
        _dictionaries.TrimIdle();
    }

    private void AdoptStoredDictionary()
    {
        if (_storingDictionary is { } dictionary)
        {
            _storingDictionary = null;
            _dictionaries.Add(dictionary, makeCurrent: true);
        }
    }

    /// <summary>
    /// Reads one dictionary by its id (a reader meeting a body whose dictionary another process stored):
    /// null when there is none, <see cref="InvalidDataException"/> when its row is damaged,
    /// <see cref="SqliteException"/> when the database could not be read (see <see cref="PayloadDictionaries"/>).
    /// </summary>
    internal static PayloadDictionary? ReadDictionary(string connectionString, uint id, int compressionLevel)
    {
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT data FROM payload_dictionaries WHERE dictionary_id = @id;";
        command.Parameters.AddWithValue("@id", (long)id);
        return command.ExecuteScalar() is byte[] data ? new PayloadDictionary(data, compressionLevel) : null;
    }
}
