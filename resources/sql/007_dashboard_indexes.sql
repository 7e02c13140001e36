-- Dashboard read paths. Schema version 7.

-- The status strip's ingest rate (rows received in the last minute) and the activity chart
-- (rows received per hour today) ask for a time range of received_at several times a second;
-- without this index each would scan the whole table.
CREATE INDEX submissions_by_received ON submissions(received_at);
