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
