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
CREATE TABLE pow_spent (
    id      BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    expires INTEGER NOT NULL CHECK (expires % 300 = 0)
) STRICT, WITHOUT ROWID;
