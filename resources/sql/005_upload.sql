-- Upload of export batches to the central trial platform. Schema version 5.

-- The upload plan of a batch and where it stands. batches.state stays created|written|uploaded
-- (its CHECK): 'uploaded' is set there only once every part below is confirmed; the finer state of
-- an unfinished upload lives here. The plan (kind, target, limits, parts) is fixed the first time a
-- batch is uploaded, so a resumed upload sends exactly the parts it planned.
CREATE TABLE batch_uploads (
    batch_id     TEXT PRIMARY KEY REFERENCES batches(id),
    kind         TEXT NOT NULL CHECK (kind IN ('redcap', 'generic')),
    target_url   TEXT NOT NULL,
    max_records  INTEGER NOT NULL,
    max_bytes    INTEGER NOT NULL,
    part_count   INTEGER NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('planned', 'uploading', 'failed', 'confirmed')),
    planned_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    -- The last failure in full (e.g. REDCap's per-field errors), for the dashboard and the API.
    last_error   TEXT
);

-- One request to the platform. A REDCap part holds the batch's submissions with first_row_id <=
-- submissions.id <= last_row_id (in id order); a generic upload has one part, the ODM file.
-- payload_sha256 is of the bytes planned: a resumed upload checks that it rebuilds the same bytes.
CREATE TABLE upload_parts (
    batch_id       TEXT NOT NULL REFERENCES batches(id),
    part_no        INTEGER NOT NULL,
    first_row_id   INTEGER NOT NULL,
    last_row_id    INTEGER NOT NULL,
    record_count   INTEGER NOT NULL,
    byte_count     INTEGER NOT NULL,
    payload_sha256 TEXT NOT NULL,
    state          TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'confirmed', 'failed')),
    attempts       INTEGER NOT NULL DEFAULT 0,
    confirmed_at   TEXT,
    last_error     TEXT,
    PRIMARY KEY (batch_id, part_no)
);
