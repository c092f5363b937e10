//! The X-Wing suite's known-answer vectors (FORMAT.md#test-vectors,
//! `envelope-xwing-v1.json`), built from fixed inputs like the v1 ones.
//! `examples/gen-vectors.rs` writes them; the `xwing` test checks the
//! committed file is exactly what this produces and that every case opens
//! and fails as it says.

use quietline_crypto::envelope::Kind;
use quietline_crypto::keys::{PrivateKey, PublicKey, Suite, derive_keypair_for};
use quietline_crypto::payload::{Common, Payload, Reply};
use quietline_crypto::reply_code::ReplyCode;
use quietline_crypto::seal::{seal_reply, seal_report};
use serde_json::{Value, json};

use super::fixed_rng::FixedRng;
use super::vectors::pattern;

/// X-Wing encapsulation draws 64 octets of randomness (`eseed`).
pub const ESEED_LEN: usize = 64;

/// The force key of the report cases: X-Wing `DeriveKeyPair(pattern(seed, 32))`.
pub fn force_key(seed: u8) -> (PrivateKey, PublicKey) {
    derive_keypair_for(Suite::XWing, &pattern(seed, 32))
}

/// The X-Wing reply key of reply-code vector 0 (entropy `pattern(1, 16)`).
pub fn reply_key() -> (PrivateKey, PublicKey, [u8; 32]) {
    let s = ReplyCode::from_entropy(pattern(1, 16).try_into().unwrap()).derive_for(Suite::XWing);
    (s.reply_sk, s.reply_pk, s.slot_key.address(0))
}

/// A report payload whose reply material is the X-Wing material of reply-code vector 0.
fn report_payload() -> Vec<u8> {
    let secrets =
        ReplyCode::from_entropy(pattern(1, 16).try_into().unwrap()).derive_for(Suite::XWing);
    super::vectors::sample_report_for(secrets)
}

fn reply_payload() -> Vec<u8> {
    Payload::Reply(Reply {
        common: Common {
            v: 1,
            sent_at: "2026-12-06T09:00:00Z".into(),
            lang: "en".into(),
        },
        from: "Demo Constabulary".into(),
        force: None,
        message: "Thank you. This reply is sealed with X-Wing.".into(),
    })
    .to_json()
}

struct Case {
    name: &'static str,
    key: u8,
    eph: u8,
    kind: Kind,
    routing: Vec<u8>,
    payload: Vec<u8>,
}

fn cases() -> Vec<Case> {
    let (_, _, slot0) = reply_key();
    vec![
        Case {
            name: "X-Wing report, sample payload with X-Wing reply material",
            key: 1,
            eph: 2,
            kind: Kind::Report,
            routing: b"demo".to_vec(),
            payload: report_payload(),
        },
        Case {
            name: "X-Wing report, empty payload (1 KiB bucket)",
            key: 1,
            eph: 3,
            kind: Kind::Report,
            routing: b"demo".to_vec(),
            payload: vec![],
        },
        Case {
            name: "X-Wing report, 64-character force id, largest payload (the longest envelope)",
            key: 6,
            eph: 8,
            kind: Kind::Report,
            routing: b"a-very-long-force-identifier-that-uses-all-sixty-four-bytes-0123".to_vec(),
            payload: (0..65532).map(|i| b'a' + (i % 26) as u8).collect(),
        },
        Case {
            name: "X-Wing reply to slot 0 of reply-code vector 0, sealed to its X-Wing reply key",
            key: 0,
            eph: 10,
            kind: Kind::Reply,
            routing: slot0.to_vec(),
            payload: reply_payload(),
        },
    ]
}

fn keys(c: &Case) -> (PrivateKey, PublicKey) {
    if c.key == 0 {
        let (sk, pk, _) = reply_key();
        (sk, pk)
    } else {
        force_key(c.key)
    }
}

fn seal_fixed(c: &Case) -> Vec<u8> {
    let (_, pk) = keys(c);
    let mut rng = FixedRng::new(&pattern(c.eph, ESEED_LEN));
    match c.kind {
        Kind::Report => seal_report(
            &mut rng,
            std::str::from_utf8(&c.routing).unwrap(),
            &pk,
            &c.payload,
        )
        .unwrap(),
        Kind::Reply => seal_reply(
            &mut rng,
            c.routing.clone().try_into().unwrap(),
            &pk,
            &c.payload,
        )
        .unwrap(),
    }
}

/// The contents of `envelope-xwing-v1.json`.
pub fn envelope_vectors() -> Value {
    let mut out = vec![];
    for c in cases() {
        let (sk, pk) = keys(&c);
        out.push(json!({
            "name": c.name,
            "recipient_sk": hex::encode(sk.to_bytes().as_ref()),
            "recipient_pk": hex::encode(pk.to_bytes()),
            "key_id": match c.kind {
                Kind::Report => pk.key_id().to_hex(),
                Kind::Reply => "0000000000000000".to_string(),
            },
            "eph_ikm": hex::encode(pattern(c.eph, ESEED_LEN)),
            "kind": c.kind.to_byte(),
            "routing": hex::encode(&c.routing),
            "payload": hex::encode(&c.payload),
            "envelope": hex::encode(seal_fixed(&c)),
        }));
    }
    let good = seal_fixed(&cases()[0]);
    let sk1 = hex::encode(force_key(1).0.to_bytes().as_ref());
    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut e = good.clone();
        f(&mut e);
        hex::encode(e)
    };
    let mut neg = |name: &str, envelope: String, error: &str| {
        out.push(json!({ "name": name, "recipient_sk": sk1, "suite": "xwing", "envelope": envelope, "error": error }));
    };
    // Offsets: header 0..23 (force id "demo"), enc 23..1143, ciphertext 1143..2183.
    neg(
        "unknown KEM id 0x647b",
        with(&|e| e[5] = 0x7b),
        "unknown_suite",
    );
    neg(
        "X-Wing KEM id with AEAD id 0x0001",
        with(&|e| e[9] = 0x01),
        "unknown_suite",
    );
    neg(
        "truncated inside the 1120-byte enc",
        hex::encode(&good[..23 + 1119]),
        "truncated",
    );
    neg(
        "ciphertext one byte short",
        with(&|e| {
            e.pop();
        }),
        "bad_ciphertext_length",
    );
    neg(
        "X25519 KEM id on an X-Wing envelope (the enc is read as 32 bytes)",
        with(&|e| {
            e[4] = 0x00;
            e[5] = 0x20;
        }),
        "bad_ciphertext_length",
    );
    neg("key id changed", with(&|e| e[10] ^= 1), "wrong_key");
    neg(
        "ML-KEM ciphertext bit flipped",
        with(&|e| e[23 + 5] ^= 0x10),
        "decryption_failed",
    );
    neg(
        "X25519 part of enc bit flipped",
        with(&|e| e[23 + 1100] ^= 0x10),
        "decryption_failed",
    );
    neg(
        "ciphertext bit flipped",
        with(&|e| e[1200] ^= 0x01),
        "decryption_failed",
    );
    neg(
        "routing changed to another valid force id (AAD mismatch)",
        with(&|e| e[19] = b'e'),
        "decryption_failed",
    );
    let reply = seal_fixed(&cases()[3]);
    let reply_sk = hex::encode(reply_key().0.to_bytes().as_ref());
    let x25519_reply_sk = hex::encode(
        ReplyCode::from_entropy(pattern(1, 16).try_into().unwrap())
            .derive()
            .reply_sk
            .to_bytes()
            .as_ref(),
    );
    out.push(json!({ "name": "X-Wing reply opened with the same code's X25519 reply key", "recipient_sk": x25519_reply_sk, "suite": "x25519", "kind": 2, "envelope": hex::encode(&reply), "error": "wrong_suite" }));
    let mut r = reply.clone();
    r[19] ^= 1;
    out.push(json!({ "name": "X-Wing reply routed to another slot (AAD mismatch)", "recipient_sk": reply_sk, "suite": "xwing", "kind": 2, "envelope": hex::encode(&r), "error": "decryption_failed" }));
    // The X-Wing reply keys of the four reply-code vectors.
    let reply_keys: Vec<Value> = super::vectors::reply_code_entropies()
        .into_iter()
        .map(|e| {
            let s = ReplyCode::from_entropy(e).derive_for(Suite::XWing);
            json!({
                "entropy": hex::encode(e),
                "reply_sk": hex::encode(s.reply_sk.to_bytes().as_ref()),
                "reply_pk": hex::encode(s.reply_pk.to_bytes()),
            })
        })
        .collect();
    json!({
        "description": "Quietline envelope format v1, suite X-Wing (KEM 0x647a, draft-ietf-hpke-pq; MLKEM768-X25519, draft-connolly-cfrg-xwing-kem) with HKDF-SHA256 and ChaCha20-Poly1305: positive cases (eph_ikm is the 64-octet encapsulation randomness eseed), negative cases, and the X-Wing reply keys of reply-code-v1.json's cases (crypto/FORMAT.md#test-vectors).",
        "cases": out,
        "reply_keys": reply_keys,
    })
}
