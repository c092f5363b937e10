//! The key-statement vectors of FORMAT.md#statement-vectors
//! (`statement-v1.json`), built from fixed inputs: three signing-key seeds,
//! two encryption keys, statements signed 1-of-1 and 2-of-3, and refusals
//! with their error codes.

use quietline_crypto::keys::{Suite, derive_keypair_for};
use quietline_crypto::statement::{KeyStatement, NO_PREVIOUS, SignedStatement, SigningSecret};
use serde_json::{Value, json};

use super::vectors::pattern;

/// The three signers' seeds (A, B, C).
pub fn seeds() -> [[u8; 32]; 3] {
    [
        pattern(60, 32).try_into().unwrap(),
        pattern(61, 32).try_into().unwrap(),
        pattern(62, 32).try_into().unwrap(),
    ]
}

/// 2026-12-07 and two years later, as UTC day numbers.
pub const FROM: u32 = 20_794;
/// Last valid day of the vectors' keys.
pub const UNTIL: u32 = 21_524;

fn statement_json(s: &SignedStatement) -> Value {
    let st = s.statement();
    json!({
        "force": st.force_id,
        "key_id": st.key_id().to_hex(),
        "suite": st.public_key.suite().name(),
        "public_key": hex::encode(st.public_key.as_bytes()),
        "valid_from": st.valid_from,
        "valid_until": st.valid_until,
        "sequence": st.sequence,
        "prev_hash": hex::encode(st.prev_hash),
        "hash": hex::encode(st.hash()),
        "signers": s.signers().map(|i| i.to_hex()).collect::<Vec<_>>(),
        "signed": hex::encode(s.as_bytes()),
        "signed_base64url": s.to_base64url(),
    })
}

fn refusal(name: &str, signed: &[u8], set: &[usize], threshold: usize, error: &str) -> Value {
    json!({
        "name": name,
        "signed": hex::encode(signed),
        "signer_set": set,
        "threshold": threshold,
        "force": "demo",
        "error": error,
    })
}

/// The contents of `statement-v1.json`.
pub fn statement_vectors() -> Value {
    let secrets: Vec<SigningSecret> = seeds().iter().map(SigningSecret::from_seed).collect();
    let (a, b, c) = (&secrets[0], &secrets[1], &secrets[2]);
    let (_, pk1) = derive_keypair_for(Suite::X25519, &pattern(63, 32));
    let (_, pk2) = derive_keypair_for(Suite::X25519, &pattern(64, 32));
    let (_, pk3) = derive_keypair_for(Suite::XWing, &pattern(65, 32));
    let first = KeyStatement {
        force_id: "demo".into(),
        public_key: pk1,
        valid_from: FROM,
        valid_until: UNTIL,
        sequence: 0,
        prev_hash: NO_PREVIOUS,
    };
    let s1 = SignedStatement::sign(first.clone(), &[a]).unwrap();
    let second = first.next(pk2.clone(), FROM + 100, UNTIL + 100);
    let s2 = SignedStatement::sign(second.clone(), &[a]).unwrap();
    let third = second.next(pk3, FROM + 200, UNTIL + 200);
    let s3 = SignedStatement::sign(third.clone(), &[c, a]).unwrap();

    let mut refusals = Vec::new();
    let good = s1.as_bytes().to_vec();
    let mut v = good.clone();
    v[0] = b'q';
    refusals.push(refusal("wrong magic", &v, &[0], 1, "bad_magic"));
    let mut v = good.clone();
    v[4] = 2;
    refusals.push(refusal("version 2", &v, &[0], 1, "unknown_version"));
    refusals.push(refusal(
        "cut inside the public key",
        &good[..30],
        &[0],
        1,
        "truncated",
    ));
    refusals.push(refusal(
        "cut inside the signature",
        &good[..good.len() - 1],
        &[0],
        1,
        "truncated",
    ));
    let mut v = good.clone();
    v.push(0);
    refusals.push(refusal(
        "a zero octet after the signature",
        &v,
        &[0],
        1,
        "trailing_bytes",
    ));
    let mut v = good.clone();
    v[6] = b'D';
    refusals.push(refusal(
        "upper-case force id",
        &v,
        &[0],
        1,
        "invalid_force_id",
    ));
    let mut v = good.clone();
    v[10] ^= 1; // the key id's first octet
    refusals.push(refusal("key id changed", &v, &[0], 1, "key_id_mismatch"));
    let mut v = good.clone();
    v[19] ^= 1; // KEM id low octet
    refusals.push(refusal("unknown KEM id", &v, &[0], 1, "unknown_suite"));
    let mut v = good.clone();
    // Offsets for force "demo" and an X25519 key: magic 0..4, version 4,
    // length 5, force 6..10, key id 10..18, KEM id 18..20, key length
    // 20..22, key 22..54, valid_from 54..58, valid_until 58..62, sequence
    // 62..70, prev_hash 70..102, count 102, signature 103..175.
    v[54..58].copy_from_slice(&(UNTIL + 1).to_be_bytes());
    refusals.push(refusal(
        "valid_until before valid_from",
        &v,
        &[0],
        1,
        "bad_validity",
    ));
    let mut v = good.clone();
    // A changed field breaks the signature.
    v[69] = 5;
    refusals.push(refusal(
        "sequence changed after signing",
        &v,
        &[0],
        1,
        "bad_signature",
    ));
    let mut v = good.clone();
    let last = v.len() - 1;
    v[last] ^= 0x01;
    refusals.push(refusal(
        "signature bit flipped",
        &v,
        &[0],
        1,
        "bad_signature",
    ));
    refusals.push(refusal(
        "signed by a key outside the set",
        &good,
        &[1, 2],
        1,
        "unknown_signer",
    ));
    let one = SignedStatement::sign(third.clone(), &[b]).unwrap();
    refusals.push(refusal(
        "one signature where two of three are needed",
        one.as_bytes(),
        &[0, 1, 2],
        2,
        "not_enough_signatures",
    ));
    // Two signatures swapped: not in ascending signer-id order.
    let body_len = s3.as_bytes().len() - 1 - 2 * 72;
    let mut v = s3.as_bytes()[..=body_len].to_vec();
    v.extend_from_slice(&s3.as_bytes()[body_len + 1 + 72..]);
    v.extend_from_slice(&s3.as_bytes()[body_len + 1..body_len + 1 + 72]);
    refusals.push(refusal(
        "signatures out of signer-id order",
        &v,
        &[0, 1, 2],
        2,
        "signature_order",
    ));
    let mut v = good.clone();
    v[good.len() - 73] = 0; // the signature count
    refusals.push(refusal(
        "no signature",
        &v[..good.len() - 72],
        &[0],
        1,
        "signature_count",
    ));
    let mut other = refusal("another force's statement", &good, &[0], 1, "wrong_force");
    other["force"] = json!("north");
    refusals.push(other);

    let mut chain_refusals = Vec::new();
    let mut skip = second.clone();
    skip.sequence = 2;
    chain_refusals.push(json!({"name": "sequence skips one", "previous": 0, "signed": hex::encode(SignedStatement::sign(skip, &[a]).unwrap().as_bytes()), "error": "broken_chain"}));
    let mut wrong = second.clone();
    wrong.prev_hash = [0x11; 32];
    chain_refusals.push(json!({"name": "previous hash is not the first statement's", "previous": 0, "signed": hex::encode(SignedStatement::sign(wrong, &[a]).unwrap().as_bytes()), "error": "broken_chain"}));
    chain_refusals.push(json!({"name": "the second statement offered as a first", "previous": null, "signed": hex::encode(s2.as_bytes()), "error": "broken_chain"}));

    json!({
        "description": "Quietline key statement v1 known-answer vectors (crypto/FORMAT.md#key-statements). Signing keys are RFC 8032 Ed25519 seeds; days are UTC days since 1970-01-01; signer_set lists indexes into signers.",
        "signers": secrets.iter().map(|s| json!({
            "seed": hex::encode(s.to_seed().as_ref()),
            "public_key": hex::encode(s.public_key().to_bytes()),
            "signer_id": s.public_key().signer_id().to_hex(),
            "fingerprint": s.public_key().fingerprint(),
        })).collect::<Vec<_>>(),
        "cases": [
            {"name": "first statement of force demo, 1-of-1 (A)", "signer_set": [0], "threshold": 1, "previous": null, "statement": statement_json(&s1)},
            {"name": "second statement, chained to the first, 1-of-1 (A)", "signer_set": [0], "threshold": 1, "previous": 0, "statement": statement_json(&s2)},
            {"name": "third statement, an X-Wing key, 2-of-3 (A and C)", "signer_set": [0, 1, 2], "threshold": 2, "previous": 1, "statement": statement_json(&s3)},
        ],
        "refusals": refusals,
        "chain_refusals": chain_refusals,
    })
}
