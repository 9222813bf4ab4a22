-- RunLedger PostgreSQL schema, version 2: what moving a ledger between stores needs.

-- A random id made once per database; an import keeps its checkpoint under the source's id.
CREATE TABLE store_identity (
    id text NOT NULL
);
INSERT INTO store_identity (id) VALUES (replace(gen_random_uuid()::text, '-', ''));

-- How far an import from another store got: the position after the last page written (in the
-- same transaction as that page) and whether the whole source was copied.
CREATE TABLE transfer_checkpoints (
    source     text PRIMARY KEY,
    position   text NOT NULL,
    completed  boolean NOT NULL,
    updated_at bigint NOT NULL
);
