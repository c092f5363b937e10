-- The key log (crypto/FORMAT.md#key-log, issue 20): every key statement the
-- platform accepted, in the order it accepted them, as the leaves of an
-- append-only Merkle tree. Additive: no existing table changes.

-- The log's Ed25519 signing key for its checkpoints: one row, created by the
-- first server to need it, so every instance sharing this database signs
-- with the same key (like pow_key). It is not a report key and opens
-- nothing: it only signs "this log had these entries" (threat-model/).
CREATE TABLE keylog_key (
    id   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    seed BLOB NOT NULL CHECK (length(seed) = 32)
) STRICT, WITHOUT ROWID;

-- idx orders the statements the platform accepted (public, about keys,
-- never about reports: see threat-model/). Leaf idx is the statement's signed octets exactly as the directory
-- serves them (entry). (force_id, sequence) names the statement it came
-- from, so the directory can say where its statement sits in the log. Rows
-- are only ever inserted, at idx = the log's size, in the same transaction
-- that stores the statement; the triggers below refuse any UPDATE or DELETE,
-- so the log can only grow.
CREATE TABLE keylog_entries (
    idx      INTEGER NOT NULL PRIMARY KEY CHECK (idx >= 0),
    force_id TEXT NOT NULL,
    sequence INTEGER NOT NULL CHECK (sequence >= 0),
    entry    BLOB NOT NULL CHECK (length(entry) > 0),
    UNIQUE (force_id, sequence),
    FOREIGN KEY (force_id, sequence) REFERENCES key_statements (force_id, sequence)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER keylog_entries_no_update BEFORE UPDATE ON keylog_entries
BEGIN
    SELECT RAISE(ABORT, 'the key log only grows: an entry is never changed');
END;

CREATE TRIGGER keylog_entries_no_delete BEFORE DELETE ON keylog_entries
BEGIN
    SELECT RAISE(ABORT, 'the key log only grows: an entry is never deleted');
END;

-- Statements accepted before the log existed, in (force id, sequence)
-- order; force ids are [a-z0-9-], compared as bytes.
INSERT INTO keylog_entries (idx, force_id, sequence, entry)
SELECT row_number() OVER (ORDER BY force_id, sequence) - 1, force_id, sequence, statement
FROM key_statements;
