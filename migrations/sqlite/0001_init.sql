-- Quietline schema, SQLite. The exact data inventory of threat-model/: nothing
-- else is stored. Every table is STRICT (a wrong type is refused, not
-- coerced). No column defaults to the current time; no AUTOINCREMENT. Every
-- table but reports is WITHOUT ROWID; reports has a rowid, but it is a random
-- value the server chooses (see below), never SQLite's next number, so no
-- rowid anywhere orders arrivals.

-- A tenant. Ids are [a-z0-9-]{1,64}.
CREATE TABLE forces (
    id   TEXT NOT NULL PRIMARY KEY
         CHECK (length(id) BETWEEN 1 AND 64 AND id NOT GLOB '*[^a-z0-9-]*'),
    name TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- A force's X25519 public keys. key_id is derived from public_key by the
-- crypto crate; the server only stores it.
CREATE TABLE force_keys (
    force_id   TEXT NOT NULL REFERENCES forces (id),
    key_id     BLOB NOT NULL CHECK (length(key_id) = 8),
    public_key BLOB NOT NULL UNIQUE CHECK (length(public_key) = 32),
    status     TEXT NOT NULL CHECK (status IN ('current', 'active', 'retired')),
    PRIMARY KEY (force_id, key_id)
) STRICT, WITHOUT ROWID;

-- At most one current key per force: the one the directory publishes.
CREATE UNIQUE INDEX force_keys_one_current ON force_keys (force_id) WHERE status = 'current';

-- Handler bearer tokens: only SHA-256 of the token is kept.
CREATE TABLE handler_tokens (
    hash     BLOB NOT NULL PRIMARY KEY CHECK (length(hash) = 32),
    force_id TEXT NOT NULL REFERENCES forces (id),
    label    TEXT NOT NULL,
    revoked  INTEGER NOT NULL CHECK (revoked IN (0, 1)),
    UNIQUE (force_id, label)
) STRICT, WITHOUT ROWID;

-- Sealed reports. id is random (chosen by the server), so neither the primary
-- key order nor the inbox order says anything about arrival. day is the UTC
-- day of receipt (days since 1970-01-01), the finest time kept. purge_fuzz
-- (0..=7, random per row) delays deletion so deletion time does not reveal
-- arrival time. The foreign key makes storage refuse a report for a key that
-- was never registered.
--
-- rid is the rowid, and it is NOT chosen by SQLite: the server always sets it
-- to the first 8 bytes of the random id (big-endian) with the top bit cleared,
-- so it is as random as id and orders nothing. Why a rowid table at all: in a
-- WITHOUT ROWID table an 8 KiB row lives in the primary-key b-tree itself, and
-- every key comparison during an insert works on whole-row cells (measured:
-- most of the writer's CPU). With an integer key the b-tree compares 8-byte
-- integers and the envelope sits in overflow pages. rid being unique makes id
-- unique too. envelope is the last column so reading the others never walks
-- its overflow pages.
CREATE TABLE reports (
    rid        INTEGER PRIMARY KEY,
    id         BLOB NOT NULL CHECK (length(id) = 16),
    force_id   TEXT NOT NULL,
    key_id     BLOB NOT NULL,
    day        INTEGER NOT NULL,
    purge_fuzz INTEGER NOT NULL CHECK (purge_fuzz BETWEEN 0 AND 7),
    envelope   BLOB NOT NULL,
    FOREIGN KEY (force_id, key_id) REFERENCES force_keys (force_id, key_id)
) STRICT;

-- A force's inbox, paged in id order. It holds every column the inbox lists,
-- so paging never reads the table (nor its 8 KiB rows).
CREATE INDEX reports_inbox ON reports (force_id, id, key_id, day);

-- One-time reply slots (kind-2 envelopes), addressed by a 32-byte value the
-- reporter's reply code derives.
CREATE TABLE reply_slots (
    address    BLOB NOT NULL PRIMARY KEY CHECK (length(address) = 32),
    envelope   BLOB NOT NULL,
    day        INTEGER NOT NULL,
    purge_fuzz INTEGER NOT NULL CHECK (purge_fuzz BETWEEN 0 AND 7)
) STRICT, WITHOUT ROWID;
