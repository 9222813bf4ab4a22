-- RunLedger PostgreSQL schema, version 4: the session summary reads from indexes made for it,
-- the session and model indexes are ascending (their pages fill up instead of staying half
-- full), and the session list's index matches its order. (performance.md, "PostgreSQL indexes", has the measurements.)
--
-- Runs under the writers' lock (the migrator takes it first): writers wait until it commits,
-- readers do not. CREATE INDEX on the partitioned runs table builds the index on every
-- partition under a SHARE lock (reads go on); the DROP INDEX statements come last, so their
-- ACCESS EXCLUSIVE locks last only until the commit right after them.

-- Top-level runs of a session, newest first (session summary): only root runs are in it, so the
-- summary no longer reads every child run of the session to drop it.
CREATE INDEX ix_runs_session_roots ON runs (project_id, session_id, started_at) WHERE session_id IS NOT NULL AND parent_id IS NULL;

-- Runs of a session counted by status from the index alone (session summary).
CREATE INDEX ix_runs_session_status ON runs (project_id, session_id, status) WHERE session_id IS NOT NULL;

-- Ascending instead of started_at DESC where that measured smaller. A session's runs arrive in
-- time order, so in a DESC index each new entry lands at the left edge of its group, and
-- PostgreSQL splits such a page in the middle: the pages stay about half full. Ascending, the
-- new entry goes to the right edge of its group and the pages fill up (100,000 runs loaded in
-- time order: session 13.2 -> 7.5 MiB, leaf pages 51 -> 90 % full; model 7.6 -> 5.6 MiB).
-- PostgreSQL reads the index backwards for ORDER BY started_at DESC, so plans keep their shape.
-- No id column: equal start times are put in id order by an incremental sort of a few rows,
-- and each entry stays 16 bytes smaller. ix_runs_status and ix_runs_name stay as they are:
-- their groups interleave in time, so every insert lands inside a page either way (measured
-- within 1.5 % of each other).
CREATE INDEX ix_runs_session_asc ON runs (project_id, session_id, started_at) WHERE session_id IS NOT NULL;
CREATE INDEX ix_runs_model_asc ON runs (project_id, model, started_at);

-- The session list orders by started_at DESC NULLS LAST, id DESC; the old index
-- (started_at DESC, id DESC) puts NULLs first, so it could not give that order and every page
-- sorted all of a project's sessions. Read backwards, (started_at NULLS FIRST, id) gives it
-- exactly, and sessions start in time order, so ascending keeps its pages full too.
CREATE INDEX ix_sessions_started_asc ON sessions (project_id, started_at NULLS FIRST, id);

DROP INDEX ix_runs_session;
ALTER INDEX ix_runs_session_asc RENAME TO ix_runs_session;
DROP INDEX ix_runs_model;
ALTER INDEX ix_runs_model_asc RENAME TO ix_runs_model;
DROP INDEX ix_sessions_started;
ALTER INDEX ix_sessions_started_asc RENAME TO ix_sessions_started;
