-- Processing: attempts, results and safety alerts. Schema version 2.

ALTER TABLE submissions ADD COLUMN attempt_count INTEGER NOT NULL DEFAULT 0;
-- attempt_count when a coordinator last requeued it: retries are counted from there.
ALTER TABLE submissions ADD COLUMN retry_base INTEGER NOT NULL DEFAULT 0;
ALTER TABLE submissions ADD COLUMN next_attempt_at TEXT;
ALTER TABLE submissions ADD COLUMN last_error TEXT;
ALTER TABLE submissions ADD COLUMN score_total INTEGER;
ALTER TABLE submissions ADD COLUMN score_band TEXT;
ALTER TABLE submissions ADD COLUMN score TEXT;
ALTER TABLE submissions ADD COLUMN report_path TEXT;
ALTER TABLE submissions ADD COLUMN report_sha256 TEXT;
ALTER TABLE submissions ADD COLUMN analysis TEXT;
ALTER TABLE submissions ADD COLUMN processed_at TEXT;

-- Retries become due in time order.
CREATE INDEX submissions_by_due_retry ON submissions(state, next_attempt_at) WHERE state = 'retrying';

-- One row per attempt to process a submission.
CREATE TABLE attempts (
    id              INTEGER PRIMARY KEY,
    submission_id   TEXT NOT NULL REFERENCES submissions(submission_id),
    number          INTEGER NOT NULL,
    started_at      TEXT NOT NULL,
    ended_at        TEXT,
    stage_reached   TEXT,
    outcome         TEXT CHECK (outcome IN ('processed', 'retry', 'failed', 'timed_out', 'cancelled', 'interrupted')),
    error           TEXT,
    stage_durations TEXT,
    UNIQUE (submission_id, number)
);

-- Safety alerts raised by scoring; a coordinator must acknowledge each.
CREATE TABLE alerts (
    id               INTEGER PRIMARY KEY,
    submission_id    TEXT NOT NULL REFERENCES submissions(submission_id),
    rule_id          TEXT NOT NULL,
    severity         TEXT NOT NULL,
    message          TEXT NOT NULL,
    item_id          TEXT,
    item_value       INTEGER,
    raised_at        TEXT NOT NULL,
    acknowledged_at  TEXT,
    acknowledged_by  TEXT,
    acknowledge_note TEXT,
    UNIQUE (submission_id, rule_id)
);
CREATE INDEX alerts_unacknowledged ON alerts(acknowledged_at) WHERE acknowledged_at IS NULL;
