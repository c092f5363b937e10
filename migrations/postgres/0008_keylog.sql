-- The key log (crypto/FORMAT.md#key-log, issue 20); see
-- migrations/sqlite/0008_keylog.sql for the columns.
CREATE TABLE keylog_key (
    id   SMALLINT NOT NULL PRIMARY KEY CHECK (id = 1),
    seed BYTEA NOT NULL CHECK (octet_length(seed) = 32)
);

CREATE TABLE keylog_entries (
    idx      BIGINT NOT NULL PRIMARY KEY CHECK (idx >= 0),
    force_id TEXT NOT NULL,
    sequence BIGINT NOT NULL CHECK (sequence >= 0),
    entry    BYTEA NOT NULL CHECK (octet_length(entry) > 0),
    UNIQUE (force_id, sequence),
    FOREIGN KEY (force_id, sequence) REFERENCES key_statements (force_id, sequence)
);

-- The log can only grow: no UPDATE, DELETE or TRUNCATE of an entry.
CREATE FUNCTION keylog_entries_only_grow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the key log only grows: an entry is never changed or deleted';
END;
$$;

CREATE TRIGGER keylog_entries_no_change BEFORE UPDATE OR DELETE ON keylog_entries
    FOR EACH ROW EXECUTE FUNCTION keylog_entries_only_grow();
CREATE TRIGGER keylog_entries_no_truncate BEFORE TRUNCATE ON keylog_entries
    FOR EACH STATEMENT EXECUTE FUNCTION keylog_entries_only_grow();

-- Statements accepted before the log existed, in (force id, sequence)
-- order, force ids compared as bytes whatever the database's collation.
INSERT INTO keylog_entries (idx, force_id, sequence, entry)
SELECT row_number() OVER (ORDER BY force_id COLLATE "C", sequence) - 1, force_id, sequence, statement
FROM key_statements;
