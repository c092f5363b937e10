-- no-transaction
-- Force keys may be X-Wing (MLKEM768-X25519) keys of 1216 bytes as well as
-- X25519 keys of 32 (crypto/FORMAT.md#keys). SQLite cannot change a CHECK in
-- place, so force_keys is rebuilt (sqlite.org/lang_altertable.html, "making
-- other kinds of table schema changes"): with foreign keys off — reports
-- refer to force_keys — in one transaction of its own, which sqlx runs
-- without its own because PRAGMA foreign_keys cannot change inside one.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE force_keys_new (
    force_id   TEXT NOT NULL REFERENCES forces (id),
    key_id     BLOB NOT NULL CHECK (length(key_id) = 8),
    public_key BLOB NOT NULL UNIQUE CHECK (length(public_key) IN (32, 1216)),
    status     TEXT NOT NULL CHECK (status IN ('current', 'active', 'retired')),
    PRIMARY KEY (force_id, key_id)
) STRICT, WITHOUT ROWID;
INSERT INTO force_keys_new (force_id, key_id, public_key, status)
    SELECT force_id, key_id, public_key, status FROM force_keys;
DROP TABLE force_keys;
ALTER TABLE force_keys_new RENAME TO force_keys;
CREATE UNIQUE INDEX force_keys_one_current ON force_keys (force_id) WHERE status = 'current';
COMMIT;
PRAGMA foreign_keys = ON;
