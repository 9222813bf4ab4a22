-- RunLedger SQLite schema, version 3: indexes that answer the dashboard's lookups from one index
-- range, already in the order asked. Without them the planner walks ix_runs_started (the whole
-- project, newest first) to avoid a sort: a run's children, a session's runs and a status or
-- model filter page read most of the table at a million runs.

-- Children of a run in start order (run detail).
DROP INDEX ix_runs_parent;
CREATE INDEX ix_runs_parent ON runs(project_id, parent_id, started_at, id) WHERE parent_id IS NOT NULL;

-- Runs of a session, newest first (session:ID filters).
DROP INDEX ix_runs_session;
CREATE INDEX ix_runs_session ON runs(project_id, session_id, started_at DESC, id DESC) WHERE session_id IS NOT NULL;

-- Top-level runs of a session, newest first (session summary); only root runs are in it.
CREATE INDEX ix_runs_session_roots ON runs(project_id, session_id, started_at DESC, id DESC) WHERE session_id IS NOT NULL AND parent_id IS NULL;

-- Runs of a session counted by status without reading the rows (session summary).
CREATE INDEX ix_runs_session_status ON runs(project_id, session_id, status) WHERE session_id IS NOT NULL;

-- Equality filters on status, model and name give pages in (started_at, id) order.
DROP INDEX ix_runs_status;
CREATE INDEX ix_runs_status ON runs(project_id, status, started_at DESC, id DESC);
DROP INDEX ix_runs_model;
CREATE INDEX ix_runs_model ON runs(project_id, model, started_at DESC, id DESC);
DROP INDEX ix_runs_name;
CREATE INDEX ix_runs_name ON runs(project_id, name, started_at DESC, id DESC);
