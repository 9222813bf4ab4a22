-- RunLedger SQLite schema, version 5: time-ordered indexes are ascending.
--
-- Runs arrive roughly in start order. In an index on (..., started_at DESC, id DESC) every new
-- entry is the smallest key of its range, so it lands at the left edge, and SQLite splits such a
-- page in the middle: the pages settle about half full (45-50 % unused measured at 100,000 runs)
-- and every commit rewrites more of them. Ascending, new entries append at the right edge of
-- their range, where pages fill up (10-12 % unused). SQLite reads an ascending index backwards for
-- ORDER BY started_at DESC, id DESC, so every query keeps its plan and its order.

DROP INDEX ix_runs_started;
CREATE INDEX ix_runs_started ON runs(project_id, started_at, id);

DROP INDEX ix_runs_session;
CREATE INDEX ix_runs_session ON runs(project_id, session_id, started_at, id) WHERE session_id IS NOT NULL;

DROP INDEX ix_runs_session_roots;
CREATE INDEX ix_runs_session_roots ON runs(project_id, session_id, started_at, id) WHERE session_id IS NOT NULL AND parent_id IS NULL;

DROP INDEX ix_runs_status;
CREATE INDEX ix_runs_status ON runs(project_id, status, started_at, id);

DROP INDEX ix_runs_model;
CREATE INDEX ix_runs_model ON runs(project_id, model, started_at, id);

DROP INDEX ix_runs_name;
CREATE INDEX ix_runs_name ON runs(project_id, name, started_at, id);

DROP INDEX ix_sessions_started;
CREATE INDEX ix_sessions_started ON sessions(project_id, started_at, id);
