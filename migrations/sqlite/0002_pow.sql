-- Proof of work on submissions (crypto/FORMAT.md#proof-of-work).

-- The MAC key that authenticates challenges: one row, created by the first
-- server to need it, so every instance sharing this database shares it. It is
-- not a decryption key and opens nothing.
CREATE TABLE pow_key (
    id  INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    key BLOB NOT NULL CHECK (length(key) = 32)
) STRICT, WITHOUT ROWID;

-- Spent challenges: the challenge's random id and its expiry (Unix seconds,
-- a multiple of 300: the finest time here is the five-minute window the
-- challenge was fetched in). Written in the same transaction as the report
-- that spends it; deleted once expired, after which the challenge is refused
-- as expired anyway. Nothing links a row to its report.
--
-- The key is (expires, id), not id alone: ids are random, so keyed by id every
-- insert would land on a random b-tree page (about one extra page written per
-- report); keyed by expiry first, the reports of one five-minute window append
-- to the same few pages, and forgetting expired rows deletes a range at the
-- start. It refuses a replay all the same: the MAC binds an id to its expiry,
-- so a replayed challenge repeats both.
CREATE TABLE pow_spent (
    expires INTEGER NOT NULL CHECK (expires % 300 = 0),
    id      BLOB NOT NULL CHECK (length(id) = 16),
    PRIMARY KEY (expires, id)
) STRICT, WITHOUT ROWID;
