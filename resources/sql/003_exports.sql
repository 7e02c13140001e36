-- Batch export to the central trial platform. Schema version 3.

-- One row per export batch. A batch is created in the transaction that marks its submissions, so
-- a submission is in at most one batch and a batch always holds exactly the rows it counts.
CREATE TABLE batches (
    id               TEXT PRIMARY KEY,
    sequence         INTEGER NOT NULL UNIQUE,
    created_at       TEXT NOT NULL,
    site_id          TEXT NOT NULL,
    trial_filter     TEXT,
    since_filter     TEXT,
    submission_count INTEGER NOT NULL,
    state            TEXT NOT NULL DEFAULT 'created' CHECK (state IN ('created', 'written', 'uploaded')),
    -- {"clinical.odm.xml": sha256 hex, ...} of the last files written; null until written.
    file_checksums   TEXT
);

-- The batch a submission was exported in; null while it waits for one.
ALTER TABLE submissions ADD COLUMN export_batch_id TEXT REFERENCES batches(id);
CREATE INDEX submissions_by_export_batch ON submissions(export_batch_id, id);
-- What the next batch takes: processed rows no batch has taken yet, found without walking the
-- exported ones.
CREATE INDEX submissions_awaiting_export ON submissions(id) WHERE state = 'processed' AND export_batch_id IS NULL;
