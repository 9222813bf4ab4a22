-- RunLedger SQLite schema, version 9: runs and events refer to their session by an integer key.
--
-- A session id is text a client chooses (typically a 36-character UUID). Stored in every run and
-- event row and in the session indexes of both tables it cost 8.3 % of the raw JSON size on the
-- benchmark workload; an integer key costs one to three bytes in each of those places.
--
-- session_keys gives each (project, session id) its key. It is its own table, not a rowid of
-- sessions, because an event may name a session that has no sessions row (a client event for a
-- session no run and no session write has named), and such an event must not create one. Keys are
-- made by the writer (and an import) the first time a session id is named, and kept (only clearing
-- the whole ledger before an import removes them, with every row that refers to them).
-- Readers join the key back to the text id, so what the API returns does not change; a
-- session:ID filter resolves the id to its key once (an id without a key matches nothing).
--
-- runs.session_id and events.session_id (TEXT) become runs.session_key and events.session_key
-- (INTEGER); the session indexes are made again on the key. On the query benchmark's ledger
-- (100,000 runs) this migration took 1.5 s.
--
-- From this version on, the events the ledger writes for a run (run.started, run.completed, ...)
-- keep their data without the run's id and name, which the row holds in run_id and name: the data
-- {"id":"RUN","name":"NAME",REST} is stored as ",REST" (RunEventTail in RunLedger.Core) and every
-- reader puts the two fields back, byte for byte (3 % of the raw JSON size on the benchmark
-- workload). No JSON value starts with a comma, so data a client sent is never mistaken for it.
-- Events already stored keep their full data (it reads back as it is); nothing here rewrites them.
CREATE TABLE session_keys (
    key        INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL,
    id         TEXT NOT NULL
);
CREATE UNIQUE INDEX ux_session_keys ON session_keys(project_id, id);

INSERT INTO session_keys (project_id, id)
    SELECT project_id, id FROM sessions
    UNION SELECT project_id, session_id FROM runs WHERE session_id IS NOT NULL
    UNION SELECT project_id, session_id FROM events WHERE session_id IS NOT NULL;

DROP INDEX ix_runs_session;
DROP INDEX ix_runs_session_roots;
DROP INDEX ix_runs_session_status;
ALTER TABLE runs ADD COLUMN session_key INTEGER;
UPDATE runs SET session_key = (SELECT k.key FROM session_keys k WHERE k.project_id = runs.project_id AND k.id = runs.session_id)
    WHERE session_id IS NOT NULL;
ALTER TABLE runs DROP COLUMN session_id;

-- Runs of a session in start order (session:ID filters, read backwards for newest first).
CREATE INDEX ix_runs_session ON runs(project_id, session_key, started_at, id) WHERE session_key IS NOT NULL;
-- Top-level runs of a session (session summary); only root runs are in it.
CREATE INDEX ix_runs_session_roots ON runs(project_id, session_key, started_at, id) WHERE session_key IS NOT NULL AND parent_id IS NULL;
-- Runs of a session counted by status without reading the rows (session summary).
CREATE INDEX ix_runs_session_status ON runs(project_id, session_key, status) WHERE session_key IS NOT NULL;

DROP INDEX ix_events_session;
ALTER TABLE events ADD COLUMN session_key INTEGER;
UPDATE events SET session_key = (SELECT k.key FROM session_keys k WHERE k.project_id = events.project_id AND k.id = events.session_id)
    WHERE session_id IS NOT NULL;
ALTER TABLE events DROP COLUMN session_id;
CREATE INDEX ix_events_session ON events(project_id, session_key, id) WHERE session_key IS NOT NULL;
