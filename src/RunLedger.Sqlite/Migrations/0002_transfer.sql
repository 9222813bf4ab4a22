-- RunLedger SQLite schema, version 2: what moving a ledger between stores needs.

-- A random id made once per database; an import keeps its checkpoint under the source's id.
CREATE TABLE store_identity (
    id TEXT NOT NULL
);
INSERT INTO store_identity (id) VALUES (lower(hex(randomblob(16))));

-- How far an import from another store got: the position after the last page written (in the
-- same transaction as that page) and whether the whole source was copied.
CREATE TABLE transfer_checkpoints (
    source     TEXT PRIMARY KEY,
    position   TEXT NOT NULL,
    completed  INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
