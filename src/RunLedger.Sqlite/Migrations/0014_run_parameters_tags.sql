-- RunLedger SQLite schema, version 14: a run refers to its parameters and its tags by integer keys;
-- each distinct parameters object and each distinct tags array of a project is stored once, in
-- run_parameters and run_tags, like metadata since version 13 (see 0013_run_metadata.sql).
--
-- Parameters (temperature, max tokens, ...) and tags repeat even more than metadata: on the
-- benchmark workload about 47 and 18 bytes of JSON a run, 32 distinct parameters objects and 2
-- distinct tags arrays at 1M runs. runs.parameters and runs.tags (TEXT) become
-- runs.parameters_key and runs.tags_key (INTEGER). Both tables have the shape of run_metadata
-- (key never reused, project, hash of the text made by runledger_metadata_hash, run count, the
-- text exactly as sent); the writer and an import keep the counts, the triggers below keep them
-- when runs are deleted. Readers join the text back, so what the API returns does not change.
-- A tag:X filter asks the project's distinct tags arrays once and checks each run's key as it
-- walks runs (tags get no index of their own, as before).
--
-- Cost: like 0012, one GROUP BY per column, one UPDATE of the runs that have them and one rewrite
-- of the runs table for the two DROP COLUMNs; about as long as 0012 on the same ledger.
CREATE TABLE run_parameters (
    key        INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL,
    hash       INTEGER NOT NULL,
    runs       INTEGER NOT NULL,
    json       TEXT NOT NULL
);

CREATE TABLE run_tags (
    key        INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL,
    hash       INTEGER NOT NULL,
    runs       INTEGER NOT NULL,
    json       TEXT NOT NULL
);

INSERT INTO run_parameters (project_id, hash, runs, json)
    SELECT project_id, runledger_metadata_hash(CAST(parameters AS BLOB)), count(*), parameters
    FROM runs WHERE parameters IS NOT NULL GROUP BY project_id, parameters;
INSERT INTO run_tags (project_id, hash, runs, json)
    SELECT project_id, runledger_metadata_hash(CAST(tags AS BLOB)), count(*), tags
    FROM runs WHERE tags IS NOT NULL GROUP BY project_id, tags;

-- For the UPDATE below only: dropped after it.
CREATE INDEX ix_run_parameters_json ON run_parameters(project_id, json);
CREATE INDEX ix_run_tags_json ON run_tags(project_id, json);
ALTER TABLE runs ADD COLUMN parameters_key INTEGER;
ALTER TABLE runs ADD COLUMN tags_key INTEGER;
UPDATE runs SET
    parameters_key = (SELECT p.key FROM run_parameters p WHERE p.project_id = runs.project_id AND p.json = runs.parameters),
    tags_key = (SELECT t.key FROM run_tags t WHERE t.project_id = runs.project_id AND t.json = runs.tags)
    WHERE parameters IS NOT NULL OR tags IS NOT NULL;
DROP INDEX ix_run_parameters_json;
DROP INDEX ix_run_tags_json;
ALTER TABLE runs DROP COLUMN parameters;
ALTER TABLE runs DROP COLUMN tags;

-- Finding a value again by the hash of its text (not unique: the text is compared on the row).
CREATE INDEX ix_run_parameters_hash ON run_parameters(project_id, hash);
CREATE INDEX ix_run_tags_hash ON run_tags(project_id, hash);

-- A deleted run no longer counts; an entry no run refers to goes.
CREATE TRIGGER tr_runs_parameters_delete AFTER DELETE ON runs WHEN OLD.parameters_key IS NOT NULL
BEGIN
    UPDATE run_parameters SET runs = runs - 1 WHERE key = OLD.parameters_key;
    DELETE FROM run_parameters WHERE key = OLD.parameters_key AND runs <= 0;
END;
CREATE TRIGGER tr_runs_tags_delete AFTER DELETE ON runs WHEN OLD.tags_key IS NOT NULL
BEGIN
    UPDATE run_tags SET runs = runs - 1 WHERE key = OLD.tags_key;
    DELETE FROM run_tags WHERE key = OLD.tags_key AND runs <= 0;
END;
