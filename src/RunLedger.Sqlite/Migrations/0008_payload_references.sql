-- RunLedger SQLite schema, version 8: runs refer to their bodies by the payload's row id, and the
-- hash lookup for deduplication goes through a narrow index on the hash's first 8 bytes.
--
-- runs.input_hash / output_hash held a 32-byte SHA-256 each, looked up through a unique index
-- on payloads.hash. They become input_payload / output_payload, the payloads row id (1-4 bytes
-- in a record): every reader already went from the hash to the payload row, and the hash a run
-- reports is read from that row. On the benchmark workload this takes about 60 bytes off every
-- run row (see docs/performance.md).
--
-- ux_payloads_hash (the whole 32-byte hash per entry) becomes ix_payloads_hash on
-- substr(hash, 1, 8): not unique, about 40 % of the size. A writer looks a body up by the
-- prefix and compares the whole hash on the row, so two bodies whose hashes share the prefix
-- stay two rows. payloads.stored_size was never read and is length(data): dropped.
--
-- A run whose hash has no payload row (a damaged ledger) keeps no body reference.

ALTER TABLE runs ADD COLUMN input_payload INTEGER;   -- payloads.id of the input body, or NULL
ALTER TABLE runs ADD COLUMN output_payload INTEGER;  -- payloads.id of the output body, or NULL
UPDATE runs SET
    input_payload = (SELECT id FROM payloads WHERE hash = runs.input_hash),
    output_payload = (SELECT id FROM payloads WHERE hash = runs.output_hash)
    WHERE input_hash IS NOT NULL OR output_hash IS NOT NULL;
ALTER TABLE runs DROP COLUMN input_hash;
ALTER TABLE runs DROP COLUMN output_hash;

DROP INDEX ux_payloads_hash;
ALTER TABLE payloads DROP COLUMN stored_size;
CREATE INDEX ix_payloads_hash ON payloads(substr(hash, 1, 8));
