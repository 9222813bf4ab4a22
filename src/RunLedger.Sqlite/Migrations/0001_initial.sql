-- RunLedger SQLite schema, version 1.
-- Times are INTEGER microseconds since the Unix epoch (UTC); costs are INTEGER nano-dollars
-- (1e-9 USD) so sums are exact; run ids are 16-byte BLOBs (the GUID's big-endian bytes, so
-- UUIDv7 ids sort by time).

CREATE TABLE projects (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects(id),
    name        TEXT NOT NULL,
    prefix      TEXT NOT NULL,
    secret_hash BLOB NOT NULL UNIQUE,
    scopes      INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);

-- Bodies (inputs, outputs) stored once per SHA-256 of their original text.
-- encoding: 0 = UTF-8 text as is, 1 = Brotli-compressed UTF-8.
-- truncated: 1 when the stored text is a truncation marker; original_size and hash are then
-- those of the original body.
CREATE TABLE payloads (
    hash          BLOB PRIMARY KEY,
    original_size INTEGER NOT NULL,
    stored_size   INTEGER NOT NULL,
    encoding      INTEGER NOT NULL,
    truncated     INTEGER NOT NULL DEFAULT 0,
    data          BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE sessions (
    project_id    INTEGER NOT NULL,
    id            TEXT NOT NULL,
    name          TEXT,
    started_at    INTEGER,
    ended_at      INTEGER,
    state         TEXT NOT NULL,
    metadata      TEXT,
    run_count     INTEGER NOT NULL DEFAULT 0,
    failed_count  INTEGER NOT NULL DEFAULT 0,
    input_tokens  INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cost_nanos    INTEGER NOT NULL DEFAULT 0,
    last_run_at   INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (project_id, id)
) WITHOUT ROWID;
CREATE INDEX ix_sessions_started ON sessions(project_id, started_at DESC, id DESC);

CREATE TABLE runs (
    seq              INTEGER PRIMARY KEY,           -- rowid; also the FTS rowid
    project_id       INTEGER NOT NULL,
    id               BLOB NOT NULL,
    session_id       TEXT,
    parent_id        BLOB,
    kind             TEXT NOT NULL,
    name             TEXT,
    status           TEXT NOT NULL,
    started_at       INTEGER NOT NULL,
    ended_at         INTEGER,
    duration_us      INTEGER,
    model            TEXT,
    provider         TEXT,
    parameters       TEXT,
    input_hash       BLOB,
    output_hash      BLOB,
    error_type       TEXT,
    error_message    TEXT,
    error_stack      TEXT,
    input_tokens     INTEGER,
    output_tokens    INTEGER,
    cached_tokens    INTEGER,
    reasoning_tokens INTEGER,
    total_tokens     INTEGER NOT NULL DEFAULT 0,
    cost_nanos       INTEGER,
    tags             TEXT,                          -- JSON array of strings, or NULL
    metadata         TEXT,                          -- JSON object, or NULL
    user_id          TEXT,
    source           TEXT NOT NULL,
    pinned           INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE UNIQUE INDEX ux_runs_id ON runs(project_id, id);
CREATE INDEX ix_runs_started ON runs(project_id, started_at DESC, id DESC);
CREATE INDEX ix_runs_status ON runs(project_id, status, started_at DESC);
CREATE INDEX ix_runs_model ON runs(project_id, model, started_at DESC);
CREATE INDEX ix_runs_name ON runs(project_id, name, started_at DESC);
CREATE INDEX ix_runs_session ON runs(project_id, session_id, started_at DESC) WHERE session_id IS NOT NULL;
CREATE INDEX ix_runs_parent ON runs(project_id, parent_id) WHERE parent_id IS NOT NULL;

-- Full-text index over input, output and error text. Contentless: the text lives compressed
-- in payloads; contentless_delete lets an updated run replace its row.
CREATE VIRTUAL TABLE runs_fts USING fts5(body, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2');

CREATE TABLE events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,  -- monotonic, never reused
    project_id      INTEGER NOT NULL,
    type            TEXT NOT NULL,
    time            INTEGER NOT NULL,
    session_id      TEXT,
    run_id          BLOB,
    name            TEXT,
    data            TEXT,
    idempotency_key TEXT
);
CREATE INDEX ix_events_project ON events(project_id, id);
CREATE INDEX ix_events_run ON events(project_id, run_id, id) WHERE run_id IS NOT NULL;
CREATE INDEX ix_events_session ON events(project_id, session_id, id) WHERE session_id IS NOT NULL;
CREATE UNIQUE INDEX ux_events_idempotency ON events(project_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- Pre-aggregated figures per bucket (bucket_size 300 s or 86400 s), kept at write time in the
-- same transaction as the runs. name/model are '' when the run has none.
CREATE TABLE rollups (
    project_id     INTEGER NOT NULL,
    bucket_size    INTEGER NOT NULL,
    bucket_start   INTEGER NOT NULL,
    kind           TEXT NOT NULL,
    name           TEXT NOT NULL,
    model          TEXT NOT NULL,
    status         TEXT NOT NULL,
    count          INTEGER NOT NULL,
    errors         INTEGER NOT NULL,
    input_tokens   INTEGER NOT NULL,
    output_tokens  INTEGER NOT NULL,
    cost_nanos     INTEGER NOT NULL,
    duration_count INTEGER NOT NULL,
    duration_sum   INTEGER NOT NULL,
    duration_min   INTEGER,
    duration_max   INTEGER,
    histogram      BLOB,
    PRIMARY KEY (project_id, bucket_size, bucket_start, kind, name, model, status)
) WITHOUT ROWID;
