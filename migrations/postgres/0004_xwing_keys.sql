-- Force keys may be X-Wing (MLKEM768-X25519) keys of 1216 bytes as well as
-- X25519 keys of 32 (crypto/FORMAT.md#keys).
ALTER TABLE force_keys DROP CONSTRAINT force_keys_public_key_check;
ALTER TABLE force_keys ADD CONSTRAINT force_keys_public_key_check
    CHECK (length(public_key) IN (32, 1216));
