-- Settling closed days (Storage::purge): once a day is over, its reports are
-- deleted and inserted again in a random order in one statement, then the
-- table is rewritten (VACUUM FULL), so neither ctid, TOAST chunk ids nor xmin
-- follow arrival order within the day.

-- Which days are settled: the day only, nothing about when. A day is
-- rewritten and recorded in the same transaction; the row goes once the
-- day's last report is purged.
CREATE TABLE settled_days (
    day INTEGER PRIMARY KEY
);

-- Tables whose deleted rows (purged, or the old copies of a settled day) are
-- still in the table files: a DELETE leaves dead tuples, bytes included, and
-- only a VACUUM FULL that runs once no older transaction is open removes
-- them. Set in the transaction that deletes, cleared after that VACUUM FULL,
-- so a purge that could not finish it (an old transaction was open) is
-- finished by the next one. The table's name only, nothing about when.
CREATE TABLE rewrite_due (
    tbl TEXT PRIMARY KEY CHECK (tbl IN ('reports', 'reply_slots'))
);
