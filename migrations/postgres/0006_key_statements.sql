-- Force signing keys and key statements (crypto/FORMAT.md#key-statements,
-- issue 20). Additive: no existing table changes.

-- A force's signer set: the public halves of its Ed25519 signing keys and
-- how many must sign a statement. Set once by the operator from what the
-- force hands over; never replaced by the platform (src/admin.rs).
CREATE TABLE force_signing (
    force_id  TEXT PRIMARY KEY REFERENCES forces (id),
    threshold SMALLINT NOT NULL CHECK (threshold BETWEEN 1 AND 16)
);

CREATE TABLE force_signers (
    force_id   TEXT NOT NULL REFERENCES force_signing (force_id),
    public_key BYTEA NOT NULL CHECK (length(public_key) = 32),
    PRIMARY KEY (force_id, public_key)
);

-- Each signed statement the force published, exactly as signed. sequence is
-- the force's own chain number from inside the statement (public, and about
-- keys, not reports); one statement per key.
CREATE TABLE key_statements (
    force_id  TEXT NOT NULL,
    sequence  BIGINT NOT NULL CHECK (sequence >= 0),
    key_id    BYTEA NOT NULL CHECK (length(key_id) = 8),
    statement BYTEA NOT NULL,
    PRIMARY KEY (force_id, sequence),
    UNIQUE (force_id, key_id),
    FOREIGN KEY (force_id, key_id) REFERENCES force_keys (force_id, key_id)
);
