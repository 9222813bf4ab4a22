-- RunLedger SQLite schema, version 13: a run refers to its metadata by an integer key; each
-- distinct metadata object of a project is stored once, in run_metadata.
--
-- Metadata are labels a client repeats (repository, persona, vendor domain, template version):
-- on the benchmark workload 1M runs carry 940 distinct objects, about 135 bytes of JSON each, which
-- every run row held again (6 % of the raw JSON size). runs.metadata (TEXT) becomes
-- runs.metadata_key (INTEGER, the run_metadata key, 1-3 bytes in a record). Metadata that differ
-- per run (a trace id) still work: each run then has an entry of its own, about 30 bytes more
-- than the text alone (the entry's hash, count and key, and the entry in ix_run_metadata_hash).
--
-- run_metadata keeps, per project, the JSON text exactly as it was sent (readers join it back, so
-- what the API returns does not change), a 64-bit hash of its UTF-8 bytes (the first 8 bytes of
-- its SHA-256, made by the function runledger_metadata_hash the store registers on its writer
-- connection) through which the writer and an import find an object again (the text is compared
-- on the row), and runs: how many runs refer to the entry. The writer and an import keep that
-- count exact; the trigger below keeps it when runs are deleted (and drops an entry no run refers
-- to). The filter compiler reads the counts to decide, for a metadata.KEY:value filter, whether to
-- find the runs through ix_runs_metadata (few matching runs) or to walk the time index and check
-- the key (many), see SqliteFilterCompiler.
--
-- ix_runs_metadata (and ix_runs_started, which now ends at the key) serve filters on every metadata
-- key at once, so the per-key expression indexes (ix_runs_meta_*, made for
-- RunLedger:Sqlite:IndexedMetadataKeys) are no longer made; the store drops them before this file
-- runs (they name the column this drops).
--
-- Cost: one GROUP BY of the runs' metadata, one UPDATE of every run that has metadata, the rewrite
-- of the runs table that DROP COLUMN does and the time index made again. On the query benchmark's
-- ledger (100,000 runs, 189 distinct objects) the server was ready 5.5 s later than without the
-- upgrade, on a 2-core machine other jobs kept busy (load average 14-21): expect 20-60 s per
-- million runs, once, at start-up, and free disk about the size of the runs table meanwhile.
CREATE TABLE run_metadata (
    key        INTEGER PRIMARY KEY AUTOINCREMENT,   -- never reused: a reader's list of keys stays right while none is added
    project_id INTEGER NOT NULL,
    hash       INTEGER NOT NULL,
    runs       INTEGER NOT NULL,
    json       TEXT NOT NULL
);

INSERT INTO run_metadata (project_id, hash, runs, json)
    SELECT project_id, runledger_metadata_hash(CAST(metadata AS BLOB)), count(*), metadata
    FROM runs WHERE metadata IS NOT NULL GROUP BY project_id, metadata;

-- For the UPDATE below only (the text of each entry, once more): dropped after it.
CREATE INDEX ix_run_metadata_json ON run_metadata(project_id, json);
ALTER TABLE runs ADD COLUMN metadata_key INTEGER;
UPDATE runs SET metadata_key = (SELECT m.key FROM run_metadata m WHERE m.project_id = runs.project_id AND m.json = runs.metadata)
    WHERE metadata IS NOT NULL;
DROP INDEX ix_run_metadata_json;
ALTER TABLE runs DROP COLUMN metadata;

-- Finding an object again by the hash of its text (not unique: the text is compared on the row).
CREATE INDEX ix_run_metadata_hash ON run_metadata(project_id, hash);
-- Runs with one of some metadata objects, in start order (metadata filters matching few runs).
CREATE INDEX ix_runs_metadata ON runs(project_id, metadata_key, started_at) WHERE metadata_key IS NOT NULL;
-- The time index also holds each run's metadata key (1-2 bytes an entry): a metadata filter matching
-- many runs walks it and checks the key in the index entry, reading only the matching runs' rows
-- (SQLite defers the row lookup until the conditions it can check on the entry pass). On the query
-- benchmark's "runs for repository X" (the newest 2,900 runs are another repository) a first page
-- took 0.37 ms of CPU instead of 0.97 ms reading every row it passed.
DROP INDEX ix_runs_started;
CREATE INDEX ix_runs_started ON runs(project_id, started_at, metadata_key);

-- A deleted run no longer counts; an entry no run refers to goes.
CREATE TRIGGER tr_runs_metadata_delete AFTER DELETE ON runs WHEN OLD.metadata_key IS NOT NULL
BEGIN
    UPDATE run_metadata SET runs = runs - 1 WHERE key = OLD.metadata_key;
    DELETE FROM run_metadata WHERE key = OLD.metadata_key AND runs <= 0;
END;
