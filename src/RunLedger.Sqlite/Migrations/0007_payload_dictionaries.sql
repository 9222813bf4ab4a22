-- RunLedger SQLite schema, version 7: bodies compressed with dictionaries trained from the
-- ledger's own bodies.
--
-- A body compressed one by one keeps about half its size (Brotli); what repeats is shared between
-- bodies (system prompts, templates, JSON keys). A zstd dictionary trained from a sample of the
-- ledger's bodies carries that shared text, and each body is then one small zstd frame compressed
-- against it: on the benchmark workload bodies take 7 % of their size instead of 53 %, one body
-- still decompresses alone in microseconds, and deduplication by hash and deleting bodies stay
-- per row.
--
-- payloads.encoding 2 = a zstd frame compressed with a dictionary; the frame header names the
-- dictionary by dictionary_id. Dictionaries are never changed or replaced: a newer one (trained
-- when a fresh sample compresses better) gets the next version and only new bodies use it, so
-- every body keeps the dictionary it was written with. Existing bodies (encodings 0 and 1) are
-- left as they are and stay readable.
CREATE TABLE payload_dictionaries (
    version       INTEGER PRIMARY KEY,
    dictionary_id INTEGER NOT NULL UNIQUE,   -- the zstd dictionary id, written in each frame header
    created_at    INTEGER NOT NULL,
    data          BLOB NOT NULL              -- the dictionary in zstd's format
);
