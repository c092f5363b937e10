-- Reporters' own copies (crypto/FORMAT.md#own-copies): kind-2 envelopes a
-- reporter's page seals to the reporter's own reply key, in a box whose
-- 32-byte address only the reply code derives. Nothing links a row to a
-- report, a reply slot or a thread: no report id, no force, no key id. id is
-- random (chosen by the server), so neither the key order nor the answer's
-- order follows arrival; day and purge_fuzz are for retention, as for
-- reply_slots. The caps per box are checked in the writing transaction.
CREATE TABLE reporter_copies (
    copy_box   BLOB NOT NULL CHECK (length(copy_box) = 32),
    id         BLOB NOT NULL CHECK (length(id) = 16),
    day        INTEGER NOT NULL,
    purge_fuzz INTEGER NOT NULL CHECK (purge_fuzz BETWEEN 0 AND 7),
    envelope   BLOB NOT NULL,
    PRIMARY KEY (copy_box, id)
) STRICT, WITHOUT ROWID;
