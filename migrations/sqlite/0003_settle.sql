-- Settling closed days (Storage::purge): once a day is over, its reports are
-- deleted and written again in a random order, so where a report sits in the
-- file (its cell's page, its overflow pages) no longer follows arrival order.

-- Which days are settled: the day only, nothing about when. A day is
-- rewritten and recorded in the same transaction; the row goes once the
-- day's last report is purged.
CREATE TABLE settled_days (
    day INTEGER NOT NULL PRIMARY KEY
) STRICT, WITHOUT ROWID;

-- Where a day's reports wait during that one transaction (empty at rest):
-- every report is copied here, deleted from reports (freeing its pages, which
-- secure_delete zeroes), then copied back one by one in a random order, and
-- this table is emptied again. The copy back takes the freed pages, so the
-- new layout follows the random order. The same columns as reports, keyed by
-- rid (no rowid of its own).
CREATE TABLE settle_stage (
    rid        INTEGER NOT NULL PRIMARY KEY,
    id         BLOB NOT NULL,
    force_id   TEXT NOT NULL,
    key_id     BLOB NOT NULL,
    day        INTEGER NOT NULL,
    purge_fuzz INTEGER NOT NULL,
    envelope   BLOB NOT NULL
) STRICT, WITHOUT ROWID;
