-- RunLedger SQLite schema, version 11: the time-ordered indexes of runs and events end at the
-- start time (or the key), not at the run's 16-byte id.
--
-- Runs are listed by (started_at, id). The indexes held both, so each entry carried the 16-byte
-- id beside the rowid SQLite appends to every entry anyway: about 17 of each entry's 45 bytes, in
-- seven indexes, about 5 % of the raw JSON size on the benchmark workload. Start times are in
-- microseconds and rarely equal, so an index in start-time order is all a page needs: SQLite walks
-- it in start-time order and sorts only the runs of one microsecond by id ("USE TEMP B-TREE FOR LAST
-- TERM OF ORDER BY" in its query plan), stopping as soon as the page is full. The order the API returns does
-- not change. Measured at 1M runs: a status, name or unfiltered first page 0.04 -> 0.06 ms in
-- SQLite alone, the status-and-model filter page unchanged (it reads far more rows than it sorts).
--
-- The events indexes named events.id, which is the rowid: the index kept it twice (4 bytes an
-- event). Without it the entries still come in id order, because SQLite orders entries with equal
-- columns by rowid.
--
-- The metadata indexes (ix_runs_meta_*) are made again at start-up in the same shape (the store
-- compares each one's definition with the one it would write).
DROP INDEX ix_runs_started;
CREATE INDEX ix_runs_started ON runs(project_id, started_at);
DROP INDEX ix_runs_status;
CREATE INDEX ix_runs_status ON runs(project_id, status, started_at);
DROP INDEX ix_runs_model;
CREATE INDEX ix_runs_model ON runs(project_id, model, started_at);
DROP INDEX ix_runs_name;
CREATE INDEX ix_runs_name ON runs(project_id, name, started_at);
-- Children of a run in start order (run detail).
DROP INDEX ix_runs_parent;
CREATE INDEX ix_runs_parent ON runs(project_id, parent_id, started_at) WHERE parent_id IS NOT NULL;
-- Runs of a session in start order (session:ID filters, read backwards for newest first).
DROP INDEX ix_runs_session;
CREATE INDEX ix_runs_session ON runs(project_id, session_key, started_at) WHERE session_key IS NOT NULL;
-- Top-level runs of a session (session summary); only root runs are in it.
DROP INDEX ix_runs_session_roots;
CREATE INDEX ix_runs_session_roots ON runs(project_id, session_key, started_at) WHERE session_key IS NOT NULL AND parent_id IS NULL;

DROP INDEX ix_events_project;
CREATE INDEX ix_events_project ON events(project_id);
DROP INDEX ix_events_run;
CREATE INDEX ix_events_run ON events(project_id, run_id) WHERE run_id IS NOT NULL;
DROP INDEX ix_events_session;
CREATE INDEX ix_events_session ON events(project_id, session_key) WHERE session_key IS NOT NULL;
