-- Batch export by date range. Schema version 8.

-- The upper bound of a batch's completed_at range (exclusive: completed_at < until_filter), UTC
-- ISO 8601 with milliseconds like since_filter; null for no bound and for batches made before.
ALTER TABLE batches ADD COLUMN until_filter TEXT;
