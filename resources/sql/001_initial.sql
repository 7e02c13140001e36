-- SiteRelay schema, version 1. Applied once, in one transaction, by Database::open().
-- Timestamps are UTC ISO 8601 with milliseconds and a Z.

CREATE TABLE devices (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('device', 'coordinator')),
    token_salt    BLOB NOT NULL,
    token_hash    BLOB NOT NULL,
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT,
    revoked_at    TEXT
);

-- One row per submission; id is the order of receipt, submission_id the client's idempotency key.
CREATE TABLE submissions (
    id               INTEGER PRIMARY KEY,
    submission_id    TEXT NOT NULL UNIQUE,
    device_id        INTEGER NOT NULL REFERENCES devices(id),
    source           TEXT NOT NULL CHECK (source IN ('api_v1', 'legacy_data_submit')),
    patient_id       TEXT NOT NULL,
    trial_id         TEXT NOT NULL,
    questionnaire_id TEXT NOT NULL,
    completed_at     TEXT NOT NULL,
    answers          TEXT NOT NULL,
    content_hash     BLOB NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'processing', 'processed', 'retrying',
                                      'timed_out', 'failed', 'cancelled')),
    received_at      TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX submissions_by_state ON submissions(state, id);
CREATE INDEX submissions_by_patient ON submissions(patient_id, id);

-- Counts by state kept by triggers, so /api/v1/stats is O(1) with a million rows.
CREATE TABLE state_counts (
    state TEXT PRIMARY KEY,
    count INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO state_counts (state, count) VALUES
    ('pending', 0), ('processing', 0), ('processed', 0), ('retrying', 0),
    ('timed_out', 0), ('failed', 0), ('cancelled', 0);

CREATE TRIGGER submissions_count_insert AFTER INSERT ON submissions
BEGIN
    UPDATE state_counts SET count = count + 1 WHERE state = NEW.state;
END;

CREATE TRIGGER submissions_count_update AFTER UPDATE OF state ON submissions
WHEN OLD.state <> NEW.state
BEGIN
    UPDATE state_counts SET count = count - 1 WHERE state = OLD.state;
    UPDATE state_counts SET count = count + 1 WHERE state = NEW.state;
END;

CREATE TRIGGER submissions_count_delete AFTER DELETE ON submissions
BEGIN
    UPDATE state_counts SET count = count - 1 WHERE state = OLD.state;
END;

-- The audit trail: every change of a record's state, who did it and when. Append-only.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    entity      TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    action      TEXT NOT NULL,
    old_state   TEXT,
    new_state   TEXT,
    detail      TEXT
);
CREATE INDEX audit_log_by_entity ON audit_log(entity, entity_id, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- One row that the health check rewrites, to prove the database takes writes.
CREATE TABLE health_probe (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at  TEXT NOT NULL
);
