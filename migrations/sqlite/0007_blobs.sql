-- Attachments (issue 19, crypto/FORMAT.md#blobs-on-the-server): sealed blobs
-- uploaded in parts. The server holds no key; a blob is opaque octets under a
-- random id, linked to no report.

-- One upload. id is random (chosen by the server). force_id: only that
-- force's handlers fetch it. state: 'uploading' until every part is held,
-- 'complete', then 'referenced' once a handler of the force fetched it. day
-- is the UTC day the upload began, the finest time kept; purge_fuzz as for
-- reports.
CREATE TABLE blobs (
    id         BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    force_id   TEXT NOT NULL REFERENCES forces (id),
    sealed_len INTEGER NOT NULL CHECK (sealed_len > 0),
    state      TEXT NOT NULL CHECK (state IN ('uploading', 'complete', 'referenced')),
    day        INTEGER NOT NULL,
    purge_fuzz INTEGER NOT NULL CHECK (purge_fuzz BETWEEN 0 AND 7)
) STRICT, WITHOUT ROWID;

-- The parts, up to 1,048,832 octets each. rid is the rowid and, as for
-- reports, a random value the server chooses, never SQLite's next number; the
-- part's octets sit in overflow pages, so the b-tree compares integers.
CREATE TABLE blob_parts (
    rid     INTEGER PRIMARY KEY,
    blob_id BLOB NOT NULL REFERENCES blobs (id) ON DELETE CASCADE,
    n       INTEGER NOT NULL CHECK (n >= 0),
    data    BLOB NOT NULL,
    UNIQUE (blob_id, n)
) STRICT;
