-- Coordinator review of processed submissions. Schema version 4.

-- A coordinator's decision on a submission: null until reviewed; 'reviewed' once checked;
-- 'rejected' when it must not go to the central platform (e.g. a wrong patient ID). Export
-- batches exclude rejected submissions. Who decided, when and why is in the audit trail too;
-- these columns are the current decision, for filtering and export.
ALTER TABLE submissions ADD COLUMN review_state TEXT CHECK (review_state IN ('reviewed', 'rejected'));
ALTER TABLE submissions ADD COLUMN reviewed_at TEXT;
ALTER TABLE submissions ADD COLUMN reviewed_by TEXT;
ALTER TABLE submissions ADD COLUMN review_note TEXT;
