-- Reporters' own copies (crypto/FORMAT.md#own-copies): kind-2 envelopes a
-- reporter's page seals to the reporter's own reply key, in a box whose
-- 32-byte address only the reply code derives. Nothing links a row to a
-- report, a reply slot or a thread: no report id, no force, no key id. id is
-- random (chosen by the server), so neither the key order nor the answer's
-- order follows arrival; day and purge_fuzz are for retention, as for
-- reply_slots. The caps per box are checked in the writing transaction,
-- under a transaction-level advisory lock on the box.
CREATE TABLE reporter_copies (
    copy_box   BYTEA NOT NULL CHECK (length(copy_box) = 32),
    id         BYTEA NOT NULL CHECK (length(id) = 16),
    envelope   BYTEA NOT NULL,
    day        INTEGER NOT NULL,
    purge_fuzz SMALLINT NOT NULL CHECK (purge_fuzz BETWEEN 0 AND 7),
    PRIMARY KEY (copy_box, id)
);

-- Ciphertext: out of line, no compression attempt (as reports and reply_slots).
ALTER TABLE reporter_copies ALTER COLUMN envelope SET STORAGE EXTERNAL;

-- Purge rewrites this table too once it has deleted copies (VACUUM FULL).
ALTER TABLE rewrite_due DROP CONSTRAINT rewrite_due_tbl_check;
ALTER TABLE rewrite_due ADD CONSTRAINT rewrite_due_tbl_check
    CHECK (tbl IN ('reports', 'reply_slots', 'reporter_copies'));
