-- Attachments (issue 19, crypto/FORMAT.md#blobs-on-the-server): sealed blobs
-- uploaded in parts; see migrations/sqlite/0007_blobs.sql for the columns.
CREATE TABLE blobs (
    id         BYTEA NOT NULL PRIMARY KEY CHECK (octet_length(id) = 16),
    force_id   TEXT NOT NULL REFERENCES forces (id),
    sealed_len BIGINT NOT NULL CHECK (sealed_len > 0),
    state      TEXT NOT NULL CHECK (state IN ('uploading', 'complete', 'referenced')),
    day        INTEGER NOT NULL,
    purge_fuzz SMALLINT NOT NULL CHECK (purge_fuzz BETWEEN 0 AND 7)
);

CREATE TABLE blob_parts (
    blob_id BYTEA NOT NULL REFERENCES blobs (id) ON DELETE CASCADE,
    n       INTEGER NOT NULL CHECK (n >= 0),
    data    BYTEA NOT NULL,
    PRIMARY KEY (blob_id, n)
);
-- Sealed octets do not compress: store them out of line without trying.
ALTER TABLE blob_parts ALTER COLUMN data SET STORAGE EXTERNAL;

-- Purge rewrites these tables too (VACUUM FULL, as for reports).
ALTER TABLE rewrite_due DROP CONSTRAINT rewrite_due_tbl_check;
ALTER TABLE rewrite_due ADD CONSTRAINT rewrite_due_tbl_check
    CHECK (tbl IN ('reports', 'reply_slots', 'reporter_copies', 'blobs', 'blob_parts'));
