//! The known-answer vectors of FORMAT.md#test-vectors, built from fixed
//! inputs. `examples/gen-vectors.rs` writes them to `tests/vectors/`; the
//! `vectors` test checks the committed files are exactly what this produces
//! and, independently, that every case parses, opens and fails as it says.

use hpke::{Deserializable, OpModeS, Serializable};
use quietline_crypto::envelope::Kind;
use quietline_crypto::keys::derive_keypair;
use quietline_crypto::payload::{
    Common, Known, Payload, Person, Reply, ReplyMaterial, Report, ReportBody, Vehicle, When,
};
use quietline_crypto::reply_code::ReplyCode;
use quietline_crypto::seal::{seal_reply, seal_report};
use serde_json::{Value, json};

use super::fixed_rng::FixedRng;

/// `n` bytes of a simple fixed pattern seeded by `seed`.
pub fn pattern(seed: u8, n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| seed.wrapping_mul(31).wrapping_add(i as u8).wrapping_mul(7))
        .collect()
}

fn sample_report(entropy: [u8; 16]) -> Vec<u8> {
    sample_report_for(ReplyCode::from_entropy(entropy).derive())
}

/// The sample report payload with the reply material of `secrets`.
pub fn sample_report_for(secrets: quietline_crypto::reply_code::ReplySecrets) -> Vec<u8> {
    Payload::Report(Report {
        common: Common { v: 1, sent_at: "2026-11-27T19:45:00Z".into(), lang: "en".into() },
        report: ReportBody {
            category: "drugs".into(),
            details: "Cars stop outside number 12 for a few minutes most evenings; packages change hands.".into(),
            location: Known { known: true, description: "Outside 12 Example Street, Exampleton".into() },
            when: When { known: true, date: Some("2026-11-20".into()), time: Some("22:15".into()), ongoing: true, ongoing_unknown: false, description: "most evenings".into() },
            people: vec![Person { name: String::new(), description: "Tall man, grey hoodie, 30s".into() }],
            vehicles: vec![Vehicle { registration: "AB12 CDE".into(), make_model: "Ford Focus".into(), colour: "silver".into(), description: String::new() }],
            how_known: "saw".into(),
            how_known_details: "I live opposite".into(),
        },
        attachments: vec![],
        reply: ReplyMaterial::from_secrets(&secrets),
        transfer: None,
    })
    .to_json()
}

fn sample_reply() -> Vec<u8> {
    Payload::Reply(Reply {
        common: Common {
            v: 1,
            sent_at: "2026-11-28T09:00:00Z".into(),
            lang: "en".into(),
        },
        from: "Demo Constabulary".into(),
        force: None,
        message: "Thank you. Can you tell us roughly what time the cars arrive?".into(),
    })
    .to_json()
}

/// A payload of exactly `n` bytes of ASCII.
fn filler(n: usize) -> Vec<u8> {
    (0..n).map(|i| b'a' + (i % 26) as u8).collect()
}

struct Positive {
    name: &'static str,
    /// Recipient: `DeriveKeyPair(pattern(ikm_r, 32))`, or for `0` the reply key of reply-code vector 0.
    ikm_r: u8,
    eph: u8,
    kind: Kind,
    routing: Vec<u8>,
    payload: Vec<u8>,
}

fn positives() -> Vec<Positive> {
    let slot0 = ReplyCode::from_entropy(pattern(1, 16).try_into().unwrap())
        .derive()
        .slot_key
        .address(0);
    vec![
        Positive {
            name: "report, sample payload",
            ikm_r: 1,
            eph: 2,
            kind: Kind::Report,
            routing: b"demo".to_vec(),
            payload: sample_report(pattern(1, 16).try_into().unwrap()),
        },
        Positive {
            name: "report, empty payload (1 KiB bucket)",
            ikm_r: 1,
            eph: 3,
            kind: Kind::Report,
            routing: b"demo".to_vec(),
            payload: vec![],
        },
        Positive {
            name: "report, 1020-byte payload fills the 1 KiB bucket",
            ikm_r: 1,
            eph: 4,
            kind: Kind::Report,
            routing: b"demo".to_vec(),
            payload: filler(1020),
        },
        Positive {
            name: "report, 1021-byte payload moves to the 2 KiB bucket",
            ikm_r: 1,
            eph: 5,
            kind: Kind::Report,
            routing: b"demo".to_vec(),
            payload: filler(1021),
        },
        Positive {
            name: "report, 64-character force id, 8000-byte payload",
            ikm_r: 6,
            eph: 7,
            kind: Kind::Report,
            routing: b"a-very-long-force-identifier-that-uses-all-sixty-four-bytes-0123".to_vec(),
            payload: filler(8000),
        },
        Positive {
            name: "report, largest payload (65532 bytes, 64 KiB bucket)",
            ikm_r: 6,
            eph: 8,
            kind: Kind::Report,
            routing: b"x".to_vec(),
            payload: filler(65532),
        },
        Positive {
            name: "reply to slot 0 of reply-code vector 0, sealed to its reply key",
            ikm_r: 0,
            eph: 10,
            kind: Kind::Reply,
            routing: slot0.to_vec(),
            payload: sample_reply(),
        },
    ]
}

fn recipient(
    ikm_r: u8,
) -> (
    quietline_crypto::keys::PrivateKey,
    quietline_crypto::keys::PublicKey,
) {
    if ikm_r == 0 {
        let s = ReplyCode::from_entropy(pattern(1, 16).try_into().unwrap()).derive();
        (s.reply_sk, s.reply_pk)
    } else {
        derive_keypair(&pattern(ikm_r, 32))
    }
}

/// Seal with a fixed ephemeral IKM.
fn seal_fixed(p: &Positive) -> Vec<u8> {
    let (_, pk) = recipient(p.ikm_r);
    let mut rng = FixedRng::new(&pattern(p.eph, 32));
    match p.kind {
        Kind::Report => seal_report(
            &mut rng,
            std::str::from_utf8(&p.routing).unwrap(),
            &pk,
            &p.payload,
        )
        .unwrap(),
        Kind::Reply => seal_reply(
            &mut rng,
            p.routing.clone().try_into().unwrap(),
            &pk,
            &p.payload,
        )
        .unwrap(),
    }
}

/// Seal an arbitrary plaintext (for the padding-error vectors), building the
/// header by hand from FORMAT.md#envelope.
fn seal_raw_plaintext(ikm_r: u8, eph: u8, force: &str, plaintext: &[u8]) -> Vec<u8> {
    let (_, pk) = derive_keypair(&pattern(ikm_r, 32));
    let mut header = b"QL\x01\x01\x00\x20\x00\x01\x00\x03".to_vec();
    header.extend_from_slice(&pk.key_id().0);
    header.push(force.len() as u8);
    header.extend_from_slice(force.as_bytes());
    let pk_h =
        <hpke::kem::X25519HkdfSha256 as hpke::Kem>::PublicKey::from_bytes(&pk.to_bytes()).unwrap();
    let mut rng = FixedRng::new(&pattern(eph, 32));
    let (enc, mut ctx) = hpke::setup_sender_with_rng::<
        hpke::aead::ChaCha20Poly1305,
        hpke::kdf::HkdfSha256,
        hpke::kem::X25519HkdfSha256,
    >(&OpModeS::Base, &pk_h, Kind::Report.info(), &mut rng)
    .unwrap();
    let ct = ctx.seal(plaintext, &header).unwrap();
    let mut out = header;
    out.extend_from_slice(&enc.to_bytes());
    out.extend_from_slice(&ct);
    out
}

/// The contents of `envelope-v1.json`.
pub fn envelope_vectors() -> Value {
    let mut cases = vec![];
    for p in positives() {
        let (sk, pk) = recipient(p.ikm_r);
        let key_id = match p.kind {
            Kind::Report => pk.key_id().to_hex(),
            Kind::Reply => "0000000000000000".to_string(),
        };
        cases.push(json!({
            "name": p.name,
            "recipient_sk": hex::encode(sk.to_bytes().as_ref()),
            "recipient_pk": hex::encode(pk.to_bytes()),
            "key_id": key_id,
            "eph_ikm": hex::encode(pattern(p.eph, 32)),
            "kind": p.kind.to_byte(),
            "routing": hex::encode(&p.routing),
            "payload": hex::encode(&p.payload),
            "envelope": hex::encode(seal_fixed(&p)),
        }));
    }
    let good = seal_fixed(&positives()[0]);
    let (sk1, _) = derive_keypair(&pattern(1, 32));
    let sk1 = hex::encode(sk1.to_bytes().as_ref());
    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut e = good.clone();
        f(&mut e);
        hex::encode(e)
    };
    let mut neg = |name: &str, envelope: String, error: &str| {
        cases.push(
            json!({ "name": name, "recipient_sk": sk1, "envelope": envelope, "error": error }),
        );
    };
    neg("wrong magic", with(&|e| e[0] = b'q'), "bad_magic");
    neg("unknown version 2", with(&|e| e[2] = 2), "unknown_version");
    neg("unknown kind 3", with(&|e| e[3] = 3), "unknown_kind");
    neg(
        "unknown KEM id 0x0021",
        with(&|e| e[5] = 0x21),
        "unknown_suite",
    );
    neg(
        "unknown AEAD id 0x0001",
        with(&|e| e[9] = 0x01),
        "unknown_suite",
    );
    neg("routing length 0", with(&|e| e[18] = 0), "routing_length");
    neg("routing length 65", with(&|e| e[18] = 65), "routing_length");
    neg(
        "upper-case force id",
        with(&|e| e[19] = b'D'),
        "invalid_force_id",
    );
    neg(
        "force id with an underscore",
        with(&|e| e[20] = b'_'),
        "invalid_force_id",
    );
    neg(
        "ciphertext one byte short",
        with(&|e| {
            e.pop();
        }),
        "bad_ciphertext_length",
    );
    neg(
        "ciphertext one byte long",
        with(&|e| e.push(0)),
        "bad_ciphertext_length",
    );
    neg(
        "truncated inside the enc",
        hex::encode(&good[..40]),
        "truncated",
    );
    neg(
        "header shorter than 19 bytes",
        hex::encode(&good[..10]),
        "truncated",
    );
    neg("key id changed", with(&|e| e[10] ^= 1), "wrong_key");
    neg(
        "routing changed to another valid force id (AAD mismatch)",
        with(&|e| e[19] = b'e'),
        "decryption_failed",
    );
    neg(
        "enc bit flipped",
        with(&|e| e[23 + 5] ^= 0x10),
        "decryption_failed",
    );
    neg(
        "ciphertext bit flipped",
        with(&|e| e[200] ^= 0x01),
        "decryption_failed",
    );
    neg(
        "tag bit flipped",
        with(&|e| {
            let n = e.len() - 1;
            e[n] ^= 0x80;
        }),
        "decryption_failed",
    );
    let reply = seal_fixed(&positives()[6]);
    let with_reply = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut e = reply.clone();
        f(&mut e);
        hex::encode(e)
    };
    let reply_sk = hex::encode(recipient(0).0.to_bytes().as_ref());
    let mut neg_reply = |name: &str, envelope: String, error: &str| {
        cases.push(json!({ "name": name, "recipient_sk": reply_sk, "kind": 2, "envelope": envelope, "error": error }));
    };
    neg_reply(
        "reply with a non-zero key id",
        with_reply(&|e| e[17] = 1),
        "reply_key_id_not_zero",
    );
    neg_reply(
        "reply with routing length 31",
        with_reply(&|e| e[18] = 31),
        "routing_length",
    );
    neg_reply(
        "reply with routing length 33",
        with_reply(&|e| e[18] = 33),
        "routing_length",
    );
    neg_reply(
        "reply routed to another slot (AAD mismatch)",
        with_reply(&|e| e[19] ^= 1),
        "decryption_failed",
    );
    let mut neg = |name: &str, envelope: String, error: &str| {
        cases.push(
            json!({ "name": name, "recipient_sk": sk1, "envelope": envelope, "error": error }),
        );
    };
    neg(
        "a reply where a report is expected",
        hex::encode(&reply),
        "wrong_kind",
    );
    let mut beyond = vec![0u8; 1024];
    beyond[..4].copy_from_slice(&1021u32.to_be_bytes());
    neg(
        "length field beyond the bucket",
        hex::encode(seal_raw_plaintext(1, 11, "demo", &beyond)),
        "length_beyond_bucket",
    );
    let mut dirty = vec![0u8; 1024];
    dirty[..4].copy_from_slice(&2u32.to_be_bytes());
    dirty[4..6].copy_from_slice(b"{}");
    dirty[1023] = 1;
    neg(
        "non-zero padding",
        hex::encode(seal_raw_plaintext(1, 12, "demo", &dirty)),
        "nonzero_padding",
    );
    json!({
        "description": "Quietline envelope v1 known-answer vectors (crypto/FORMAT.md#test-vectors). Cases with \"error\" are negative: opening with recipient_sk, expecting the kind given by \"kind\" (1 when absent), MUST fail with that error.",
        "cases": cases,
    })
}

/// The entropies of the four reply-code cases.
pub fn reply_code_entropies() -> Vec<[u8; 16]> {
    vec![
        pattern(1, 16).try_into().unwrap(),
        [0u8; 16],
        [0xff; 16],
        pattern(200, 16).try_into().unwrap(),
    ]
}

/// The contents of `reply-code-v1.json`.
pub fn reply_code_vectors() -> Value {
    let cases: Vec<Value> = reply_code_entropies()
        .into_iter()
        .map(|e| {
            let code = ReplyCode::from_entropy(e);
            let s = code.derive();
            json!({
                "entropy": hex::encode(e),
                "mnemonic": code.to_mnemonic().as_str(),
                "reply_sk": hex::encode(s.reply_sk.to_bytes().as_ref()),
                "reply_pk": hex::encode(s.reply_pk.to_bytes()),
                "thread_id": hex::encode(s.thread_id),
                "slot_key": hex::encode(s.slot_key.as_bytes()),
                "slots": (0..4).map(|i| hex::encode(s.slot_key.address(i))).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "description": "Quietline reply-code v1 known-answer vectors (crypto/FORMAT.md#reply-code).",
        "cases": cases,
    })
}

/// The contents of `keyfile-v1.json`: the first envelope vector's recipient
/// key in a key file, with salt `00..0f` and nonce `10..1b`.
pub fn keyfile_vectors() -> Value {
    use quietline_crypto::keyfile::{KdfParams, seal_key_file};
    let (sk, pk) = recipient(1);
    let passphrase = "correct horse battery staple";
    let fixed: Vec<u8> = (0u8..28).collect();
    let text = seal_key_file(
        &mut FixedRng::new(&fixed),
        &sk,
        "demo",
        "2026-11-27",
        passphrase.as_bytes(),
        KdfParams::DEFAULT,
    )
    .unwrap();
    json!({
        "description": "Quietline key file v1 known-answer vector (crypto/FORMAT.md#key-file). The random octets drawn are the salt (16) then the nonce (12).",
        "cases": [{
            "private_key": hex::encode(sk.to_bytes().as_ref()),
            "public_key": hex::encode(pk.to_bytes()),
            "force": "demo",
            "created": "2026-11-27",
            "passphrase": passphrase,
            "salt": hex::encode(&fixed[..16]),
            "nonce": hex::encode(&fixed[16..]),
            "text": text,
        }],
    })
}

/// The contents of `pow-v1.json` (FORMAT.md#proof-of-work): challenges under a
/// fixed key, the first block (nonce counting up from 0, blocks 1–255 of its
/// HKDF expansion) that solves each over a fixed envelope, and refusals with
/// their error codes.
pub fn pow_vectors() -> Value {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use hmac::{KeyInit, Mac};
    use quietline_crypto::pow::{self, Challenge, PowKey, Solution};
    let key_bytes: [u8; 32] = pattern(40, 32).try_into().unwrap();
    let key = PowKey::from_bytes(key_bytes);
    let envelope = pattern(41, 1095);
    let env_hash = pow::envelope_hash(&envelope);
    let mut cases = Vec::new();
    let mut first_header = String::new();
    for (difficulty, seed) in [(0u8, 42u8), (8, 43), (12, 44), (16, 45)] {
        let id: [u8; 16] = pattern(seed, 16).try_into().unwrap();
        let expires = 1_795_823_700u64;
        let challenge = Challenge {
            difficulty,
            expires,
            id,
        }
        .issue(&key);
        let work = pow::solve(&challenge, &env_hash, difficulty, 0, 1 << 24).unwrap();
        let digest = pow::digest(&challenge, &env_hash, &work);
        let header = Solution { challenge, work }.to_header();
        if difficulty == 8 {
            first_header = header.clone();
        }
        cases.push(json!({
            "name": format!("difficulty {difficulty}"),
            "difficulty": difficulty,
            "expires": expires,
            "id": hex::encode(id),
            "challenge": hex::encode(challenge),
            "challenge_base64url": URL_SAFE_NO_PAD.encode(challenge),
            "nonce": hex::encode(work.nonce),
            "block": work.block,
            "prev": work.prev.map(hex::encode),
            "work": hex::encode(work.to_bytes()),
            "digest": hex::encode(digest),
            "leading_zero_bits": pow::leading_zero_bits(&digest),
            "header": header,
        }));
    }
    // Refusals, checked at `now` with the same key and envelope unless stated.
    let (c8, n8) = first_header.split_once('.').unwrap();
    let mut flipped = URL_SAFE_NO_PAD.decode(c8).unwrap();
    flipped[57] ^= 1;
    // Version 2 with a tag that verifies: refused all the same.
    let mut v2 = URL_SAFE_NO_PAD.decode(c8).unwrap();
    v2[0] = 2;
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&key_bytes).unwrap();
    mac.update(b"quietline/v1/pow-challenge");
    mac.update(&v2[..26]);
    v2[26..].copy_from_slice(&mac.finalize().into_bytes());
    let other_key = Challenge {
        difficulty: 8,
        expires: 1_795_823_700,
        id: [0; 16],
    }
    .issue(&PowKey::from_bytes([0xee; 32]));
    let now = 1_795_823_000u64;
    let refusals = [
        (
            "solution for another envelope",
            first_header.clone(),
            "another",
            "pow_insufficient",
            now,
        ),
        (
            "expired (now equals expires)",
            first_header.clone(),
            "same",
            "pow_expired",
            1_795_823_700,
        ),
        (
            "tag bit flipped",
            format!("{}.{n8}", URL_SAFE_NO_PAD.encode(&flipped)),
            "same",
            "pow_forged",
            now,
        ),
        (
            "version 2 with a valid tag",
            format!("{}.{n8}", URL_SAFE_NO_PAD.encode(&v2)),
            "same",
            "pow_forged",
            now,
        ),
        (
            "issued under another key",
            format!("{}.{n8}", URL_SAFE_NO_PAD.encode(other_key)),
            "same",
            "pow_forged",
            now,
        ),
        (
            "no dot",
            first_header.replace('.', ""),
            "same",
            "pow_malformed",
            now,
        ),
        (
            "work of 8 octets",
            format!("{c8}.AAAAAAAAAAA"),
            "same",
            "pow_malformed",
            now,
        ),
        (
            "block 0",
            format!("{c8}.AAAAAAAAAAAA"),
            "same",
            "pow_malformed",
            now,
        ),
        (
            "block 2 without the block before it",
            format!("{c8}.AAAAAAAAAAAC"),
            "same",
            "pow_malformed",
            now,
        ),
        (
            "block 1 with a block before it",
            format!(
                "{c8}.{}",
                URL_SAFE_NO_PAD.encode([&[0u8; 8][..], &[1], &[0; 32]].concat())
            ),
            "same",
            "pow_malformed",
            now,
        ),
        (
            "padded nonce",
            format!("{first_header}="),
            "same",
            "pow_malformed",
            now,
        ),
        (
            "challenge one octet short",
            format!("{}.{n8}", &c8[..76]),
            "same",
            "pow_malformed",
            now,
        ),
    ];
    let refusals: Vec<Value> = refusals
        .into_iter()
        .map(|(name, header, env, error, now)| {
            json!({ "name": name, "header": header, "envelope": env, "now": now, "error": error })
        })
        .collect();
    json!({
        "description": "Quietline proof-of-work v1 known-answer vectors (crypto/FORMAT.md#proof-of-work). Each case's solution is the first block that solves its challenge over `envelope`: nonces counting up from 0 (u64 big-endian), blocks 1 to 255 of HKDF-SHA256-Expand(PRK = HKDF-Extract(salt = challenge, IKM = SHA-256(envelope)), info = nonce); `prev` is the block before it (null for block 1) and `work` is nonce ‖ block ‖ prev, as the header carries it. Refusals are checked with `key` at `now`; their `envelope` is `same` (the envelope above) or `another` (the envelope with its first octet XOR 1).",
        "key": hex::encode(key_bytes),
        "envelope": hex::encode(&envelope),
        "envelope_hash": hex::encode(env_hash),
        "now": now,
        "cases": cases,
        "refusals": refusals,
    })
}

/// Pretty JSON with a trailing newline, as committed.
pub fn render(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap();
    s.push('\n');
    s
}
