-- RunLedger SQLite schema, version 10: the full-text index moves to a file of its own.
--
-- runs_fts and its mark (fts_progress) leave the ledger for <ledger>.fts, written by its own
-- connection on its own thread, so tokenizing and FTS5 segment writes no longer run under the
-- ledger's single write lock (SQLite allows one writer per file; two files are written in
-- parallel). The index file is derived data: the indexer builds it from the stored bodies after
-- this migration, and search reads the runs it has not reached from their bodies meanwhile.
DROP TABLE runs_fts;
DROP TABLE fts_progress;

-- Which ledger an index file belongs to: the index records this token and search trusts it only
-- while the two are equal. A clear, a restore and a backup copy get a new one, so an index file
-- left beside them is never used for runs whose seqs it does not describe.
CREATE TABLE fts_owner (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    token BLOB NOT NULL
);
INSERT INTO fts_owner (id, token) VALUES (1, randomblob(16));

-- Runs whose search text changed after they were written (an update with new bodies or error,
-- an import): written in the change's own commit; search reads them from their bodies, never
-- from the index, until the indexer has replaced their text and removed the row at the
-- generation it read (gen grows with each change, so a change made meanwhile keeps its row).
CREATE TABLE fts_pending (
    seq INTEGER PRIMARY KEY,
    gen INTEGER NOT NULL
);
