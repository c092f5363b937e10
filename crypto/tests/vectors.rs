//! Known-answer tests (FORMAT.md#test-vectors): the official RFC 9180 vectors
//! for the v1 suite, and Quietline's own envelope and reply-code vectors.

mod common;

use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use quietline_crypto::envelope::{Kind, parse};
use quietline_crypto::keys::{PrivateKey, PublicKey, derive_keypair};
use quietline_crypto::open::open;
use quietline_crypto::reply_code::ReplyCode;
use quietline_crypto::seal::{seal_reply, seal_report};
use serde_json::Value;

use common::fixed_rng::FixedRng;
use common::vectors;

type Kem = hpke::kem::X25519HkdfSha256;
type Kdf = hpke::kdf::HkdfSha256;
type Aead = hpke::aead::ChaCha20Poly1305;

fn load(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn hx(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("hex string")).expect("valid hex")
}

#[test]
fn rfc9180_base_mode_vectors_for_the_v1_suite() {
    let all = load("rfc9180-base-x25519-sha256-chacha20poly1305.json");
    let cases = all.as_array().unwrap();
    assert_eq!(
        cases.len(),
        1,
        "exactly the base-mode entry for suite 0x0020/0x0001/0x0003"
    );
    for t in cases {
        assert_eq!(
            (
                t["mode"].as_u64(),
                t["kem_id"].as_u64(),
                t["kdf_id"].as_u64(),
                t["aead_id"].as_u64()
            ),
            (Some(0), Some(0x20), Some(1), Some(3))
        );
        // DeriveKeyPair for both parties.
        let (sk_r, pk_r) = derive_keypair(&hx(&t["ikmR"]));
        // RFC 9180 §7.1.2: SerializePrivateKey clamps; the published skRm is unclamped.
        let mut want_sk = hx(&t["skRm"]);
        want_sk[0] &= 248;
        want_sk[31] = (want_sk[31] & 127) | 64;
        assert_eq!(sk_r.to_bytes().as_ref(), want_sk.as_slice());
        assert_eq!(pk_r.to_bytes().as_slice(), hx(&t["pkRm"]).as_slice());
        let info = hx(&t["info"]);
        let pk_h = <Kem as hpke::Kem>::PublicKey::from_bytes(&pk_r.to_bytes()).unwrap();
        let mut rng = FixedRng::new(&hx(&t["ikmE"]));
        let (enc, mut sender) =
            hpke::setup_sender_with_rng::<Aead, Kdf, Kem>(&OpModeS::Base, &pk_h, &info, &mut rng)
                .unwrap();
        assert_eq!(enc.to_bytes().as_slice(), hx(&t["enc"]).as_slice());
        let sk_h = <Kem as hpke::Kem>::PrivateKey::from_bytes(sk_r.to_bytes().as_ref()).unwrap();
        let mut receiver =
            hpke::setup_receiver::<Aead, Kdf, Kem>(&OpModeR::Base, &sk_h, &enc, &info).unwrap();
        let encs = t["encryptions"].as_array().unwrap();
        assert!(encs.len() > 1);
        for e in encs {
            let ct = sender.seal(&hx(&e["pt"]), &hx(&e["aad"])).unwrap();
            assert_eq!(ct, hx(&e["ct"]));
            assert_eq!(receiver.open(&ct, &hx(&e["aad"])).unwrap(), hx(&e["pt"]));
        }
        for x in t["exports"].as_array().unwrap() {
            let mut out = vec![0u8; x["L"].as_u64().unwrap() as usize];
            sender
                .export(&hx(&x["exporter_context"]), &mut out)
                .unwrap();
            assert_eq!(out, hx(&x["exported_value"]));
        }
    }
}

#[test]
fn committed_vectors_are_exactly_what_the_generator_makes() {
    // If this fails after an intended format change: `cargo run -p quietline-crypto --example gen-vectors`.
    for (name, v) in [
        ("envelope-v1.json", vectors::envelope_vectors()),
        ("reply-code-v1.json", vectors::reply_code_vectors()),
        ("keyfile-v1.json", vectors::keyfile_vectors()),
        ("pow-v1.json", vectors::pow_vectors()),
        ("copy-v1.json", common::copy_vectors::copy_vectors()),
        ("stream-v1.json", common::stream_vectors::stream_vectors()),
        (
            "transfer-v1.json",
            common::transfer_vectors::transfer_vectors(),
        ),
    ] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/vectors")
            .join(name);
        let committed = std::fs::read_to_string(path).unwrap();
        assert!(
            committed == vectors::render(&v),
            "{name} differs from the generator's output"
        );
    }
}

#[test]
fn envelope_vectors_seal_open_and_fail_as_stated() {
    let v = load("envelope-v1.json");
    let cases = v["cases"].as_array().unwrap();
    let (mut pos, mut neg) = (0, 0);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let sk = PrivateKey::from_bytes(&hx(&c["recipient_sk"])).unwrap();
        let envelope = hx(&c["envelope"]);
        if let Some(err) = c.get("error") {
            neg += 1;
            let expected = if c["kind"].as_u64() == Some(2) {
                Kind::Reply
            } else {
                Kind::Report
            };
            let got = open(&sk, expected, &envelope).expect_err(name);
            assert_eq!(got.code(), err.as_str().unwrap(), "{name}: {got}");
            continue;
        }
        pos += 1;
        let pk = PublicKey::from_bytes(&hx(&c["recipient_pk"])).unwrap();
        assert_eq!(sk.public_key(), pk, "{name}");
        let key_id = if c["kind"].as_u64() == Some(2) {
            "0000000000000000".to_string()
        } else {
            pk.key_id().to_hex()
        };
        assert_eq!(key_id, c["key_id"].as_str().unwrap(), "{name}");
        let payload = hx(&c["payload"]);
        let routing = hx(&c["routing"]);
        let mut rng = FixedRng::new(&hx(&c["eph_ikm"]));
        let (kind, sealed) = match c["kind"].as_u64().unwrap() {
            1 => (
                Kind::Report,
                seal_report(
                    &mut rng,
                    std::str::from_utf8(&routing).unwrap(),
                    &pk,
                    &payload,
                )
                .unwrap(),
            ),
            2 => (
                Kind::Reply,
                seal_reply(&mut rng, routing.clone().try_into().unwrap(), &pk, &payload).unwrap(),
            ),
            k => panic!("unknown kind {k}"),
        };
        assert_eq!(
            sealed, envelope,
            "{name}: sealing with eph_ikm reproduces the envelope"
        );
        let parsed = parse(&envelope).unwrap();
        assert_eq!(parsed.key_id().to_hex(), key_id);
        assert_eq!(
            open(&sk, kind, &envelope).unwrap().as_slice(),
            payload.as_slice(),
            "{name}"
        );
    }
    assert!(
        pos >= 7 && neg >= 25,
        "{pos} positive, {neg} negative cases"
    );
}

#[test]
fn reply_code_vectors_derive_as_stated() {
    let v = load("reply-code-v1.json");
    for c in v["cases"].as_array().unwrap() {
        let code = ReplyCode::from_mnemonic(c["mnemonic"].as_str().unwrap()).unwrap();
        assert_eq!(code.entropy().as_slice(), hx(&c["entropy"]).as_slice());
        let s = code.derive();
        assert_eq!(
            s.reply_sk.to_bytes().as_slice(),
            hx(&c["reply_sk"]).as_slice()
        );
        assert_eq!(
            s.reply_pk.to_bytes().as_slice(),
            hx(&c["reply_pk"]).as_slice()
        );
        assert_eq!(s.thread_id.as_slice(), hx(&c["thread_id"]).as_slice());
        assert_eq!(
            s.slot_key.as_bytes().as_slice(),
            hx(&c["slot_key"]).as_slice()
        );
        let slots = c["slots"].as_array().unwrap();
        assert_eq!(slots.len(), 4);
        for (i, want) in slots.iter().enumerate() {
            assert_eq!(s.slot_key.address(i as u32).as_slice(), hx(want).as_slice());
        }
    }
}

#[test]
fn keyfile_vector_opens_and_reseals() {
    use quietline_crypto::keyfile::{KdfParams, KeyFileError, open_key_file, seal_key_file};
    let v = load("keyfile-v1.json");
    for c in v["cases"].as_array().unwrap() {
        let text = c["text"].as_str().unwrap();
        let pass = c["passphrase"].as_str().unwrap().as_bytes();
        let (info, sk) = open_key_file(text, pass).unwrap();
        assert_eq!(sk.to_bytes().as_slice(), hx(&c["private_key"]).as_slice());
        assert_eq!(
            info.public_key.to_bytes().as_slice(),
            hx(&c["public_key"]).as_slice()
        );
        assert_eq!(info.force_id, c["force"].as_str().unwrap());
        let mut fixed = hx(&c["salt"]);
        fixed.extend(hx(&c["nonce"]));
        let again = seal_key_file(
            &mut FixedRng::new(&fixed),
            &sk,
            &info.force_id,
            &info.created,
            pass,
            KdfParams::DEFAULT,
        )
        .unwrap();
        assert_eq!(again, text);
        assert_eq!(
            open_key_file(text, b"wrong").unwrap_err(),
            KeyFileError::WrongPassphrase
        );
        assert!(matches!(
            open_key_file(&text.replace("t=3", "t=2"), pass),
            Err(KeyFileError::Damaged(_))
        ));
    }
}

#[test]
fn pow_vectors_solve_and_fail_as_stated() {
    use quietline_crypto::pow::{self, PowKey};
    let v = load("pow-v1.json");
    let key = PowKey::from_bytes(hx(&v["key"]).try_into().unwrap());
    let envelope = hx(&v["envelope"]);
    let env_hash: [u8; 32] = hx(&v["envelope_hash"]).try_into().unwrap();
    assert_eq!(pow::envelope_hash(&envelope), env_hash);
    let now = v["now"].as_u64().unwrap();
    for c in v["cases"].as_array().unwrap() {
        let challenge: [u8; 58] = hx(&c["challenge"]).try_into().unwrap();
        let difficulty = c["difficulty"].as_u64().unwrap() as u8;
        let work = pow::solve(&challenge, &env_hash, difficulty, 0, 1 << 24).unwrap();
        assert_eq!(work.nonce.as_slice(), hx(&c["nonce"]).as_slice());
        assert_eq!(u64::from(work.block), c["block"].as_u64().unwrap());
        assert_eq!(work.to_bytes(), hx(&c["work"]));
        let digest = pow::digest(&challenge, &env_hash, &work);
        assert_eq!(digest.as_slice(), hx(&c["digest"]).as_slice());
        let header = c["header"].as_str().unwrap();
        let got = pow::verify(&key, header, &envelope, now).unwrap();
        assert_eq!(u64::from(got.difficulty), c["difficulty"].as_u64().unwrap());
        assert_eq!(got.expires, c["expires"].as_u64().unwrap());
        assert_eq!(got.id.as_slice(), hx(&c["id"]).as_slice());
    }
    let mut another = envelope.clone();
    another[0] ^= 1;
    for r in v["refusals"].as_array().unwrap() {
        let env = if r["envelope"] == "another" {
            &another
        } else {
            &envelope
        };
        let err = pow::verify(
            &key,
            r["header"].as_str().unwrap(),
            env,
            r["now"].as_u64().unwrap(),
        )
        .unwrap_err();
        assert_eq!(err.code(), r["error"].as_str().unwrap(), "{}", r["name"]);
    }
}

#[test]
fn copy_vectors_derive_seal_open_and_order_as_stated() {
    use quietline_crypto::copy::{OwnCopy, Place, copy_box, open_copy, order, seal_copy};
    use quietline_crypto::keys::Suite;
    let v = load("copy-v1.json");
    let codes = load("reply-code-v1.json");
    let boxes = v["copy_boxes"].as_array().unwrap();
    assert_eq!(boxes.len(), 4);
    for (b, c) in boxes.iter().zip(codes["cases"].as_array().unwrap()) {
        assert_eq!(b["entropy"], c["entropy"]);
        let code = ReplyCode::from_entropy(hx(&b["entropy"]).try_into().unwrap());
        let address = copy_box(&code);
        assert_eq!(hex::encode(address), b["copy_box"].as_str().unwrap());
        // Not one of the code's reply slots.
        for slot in c["slots"].as_array().unwrap() {
            assert_ne!(hex::encode(address), slot.as_str().unwrap());
        }
    }
    let sealed = v["sealed"].as_array().unwrap();
    assert_eq!(sealed.len(), 3);
    for c in sealed {
        let code = ReplyCode::from_entropy(hx(&c["entropy"]).try_into().unwrap());
        let suite = Suite::from_name(c["suite"].as_str().unwrap()).unwrap();
        let envelope = hx(&c["envelope"]);
        let copy = open_copy(&code, &envelope).unwrap();
        assert_eq!(copy.to_json(), hx(&c["payload"]), "{}", c["name"]);
        assert_eq!(u64::from(copy.seq), c["seq"].as_u64().unwrap());
        assert_eq!(
            u64::from(copy.after_replies),
            c["after_replies"].as_u64().unwrap()
        );
        assert_eq!(OwnCopy::from_json(&hx(&c["payload"])).unwrap(), copy);
        // It seals to the same octets with the same ephemeral input.
        let again = seal_copy(&mut FixedRng::new(&hx(&c["eph_ikm"])), &code, suite, &copy).unwrap();
        assert_eq!(again, envelope);
        // A kind-2 envelope routed to the box, with the all-zero key id.
        let env = parse(&envelope).unwrap();
        assert_eq!(env.kind(), Kind::Reply);
        assert_eq!(env.suite(), suite);
        // Another code cannot open it, and it is not this code's copy when
        // its routing is changed (the AAD fails, or the box differs).
        let other = ReplyCode::from_entropy([0x77; 16]);
        assert!(open_copy(&other, &envelope).is_err());
        let mut moved = envelope.clone();
        moved[19] ^= 1;
        assert!(open_copy(&code, &moved).is_err());
    }
    let place = |p: &Value| {
        if let Some(i) = p.get("reply") {
            Place::Reply(i.as_u64().unwrap() as u32)
        } else {
            let c = &p["copy"];
            Place::Copy {
                after_replies: c["after_replies"].as_u64().unwrap() as u32,
                seq: c["seq"].as_u64().unwrap() as u32,
            }
        }
    };
    for o in v["orders"].as_array().unwrap() {
        let mut found: Vec<Place> = o["found"].as_array().unwrap().iter().map(place).collect();
        order(&mut found, |p| *p);
        let want: Vec<Place> = o["ordered"].as_array().unwrap().iter().map(place).collect();
        assert_eq!(found, want);
    }
}

#[test]
fn stream_vectors_seal_open_and_fail_as_stated() {
    use chacha20poly1305::aead::{Aead, KeyInit};
    use common::stream_vectors::{apply_ops, file};
    use quietline_crypto::stream::{self, StreamKey};
    use sha2::{Digest, Sha256};

    let v = load("stream-v1.json");
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 6);
    let key_of = |c: &Value| StreamKey::from_bytes(hx(&c["key"]).try_into().unwrap());
    let sealed_of = |c: &Value| {
        stream::seal(&key_of(c), &file(c["length"].as_u64().unwrap() as usize)).unwrap()
    };
    for c in cases {
        let len = c["length"].as_u64().unwrap();
        let padded = c["padded_size"].as_u64().unwrap();
        let f = file(len as usize);
        let sealed = sealed_of(c);
        assert_eq!(
            hex::encode(Sha256::digest(&sealed)),
            c["sealed_sha256"].as_str().unwrap()
        );
        assert_eq!(sealed.len() as u64, c["sealed_length"].as_u64().unwrap());
        assert_eq!(stream::padded_len_of(sealed.len() as u64), Some(padded));
        // Independently of the Encryptor: each chunk is plain ChaCha20-Poly1305
        // of the zero-padded file under the stated nonce, with empty AAD.
        let aead = chacha20poly1305::ChaCha20Poly1305::new_from_slice(&hx(&c["key"])).unwrap();
        let mut padded_file = f.clone();
        padded_file.resize(padded as usize, 0);
        let nonces = c["nonces"].as_array().unwrap();
        let tags = c["tags"].as_array().unwrap();
        assert_eq!(nonces.len() as u64, c["chunks"].as_u64().unwrap());
        for (i, chunk) in padded_file.chunks(stream::CHUNK_LEN).enumerate() {
            let nonce: [u8; 12] = hx(&nonces[i]).try_into().unwrap();
            assert_eq!(
                nonce[..11],
                (i as u128).to_be_bytes()[5..],
                "11-byte counter"
            );
            assert_eq!(
                nonce[11],
                u8::from(i + 1 == nonces.len()),
                "last-chunk flag"
            );
            let ct = aead
                .encrypt(&chacha20poly1305::Nonce::from(nonce), chunk)
                .unwrap();
            assert_eq!(ct[stream::CHUNK_LEN..], hx(&tags[i])[..]);
            assert_eq!(
                ct[..],
                sealed[i * stream::SEALED_CHUNK_LEN..(i + 1) * stream::SEALED_CHUNK_LEN]
            );
        }
        assert_eq!(stream::open(&key_of(c), len, padded, &sealed).unwrap(), f);
    }
    let refusals = v["refusals"].as_array().unwrap();
    assert!(refusals.len() >= 15);
    for r in refusals {
        let c = &cases[r["case"].as_u64().unwrap() as usize];
        let mut sealed = sealed_of(c);
        apply_ops(&mut sealed, &r["ops"], |i| sealed_of(&cases[i]));
        let len = r.get("length").unwrap_or(&c["length"]).as_u64().unwrap();
        let padded = r
            .get("padded_size")
            .unwrap_or(&c["padded_size"])
            .as_u64()
            .unwrap();
        let err = stream::open(&key_of(c), len, padded, &sealed).unwrap_err();
        assert_eq!(err.code(), r["error"].as_str().unwrap(), "{}", r["name"]);
        if let Some(i) = r.get("chunk") {
            assert_eq!(
                err,
                stream::StreamError::ChunkFailed {
                    index: i.as_u64().unwrap()
                },
                "{}",
                r["name"]
            );
        }
    }
}

#[test]
fn transfer_vectors_open_to_payloads_that_carry_the_note() {
    use quietline_crypto::payload::{Payload, TransferNote};
    let v = load("transfer-v1.json");
    let note: TransferNote = serde_json::from_value(v["note"].clone()).unwrap();
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    for c in cases {
        let sk = PrivateKey::from_bytes(&hx(&c["recipient_sk"])).unwrap();
        let kind = if c["kind"] == 2 {
            Kind::Reply
        } else {
            Kind::Report
        };
        let plain = open(&sk, kind, &hx(&c["envelope"])).unwrap();
        assert_eq!(
            plain.as_slice(),
            hx(&c["payload"]).as_slice(),
            "{}",
            c["name"]
        );
        match Payload::from_json(&plain).unwrap() {
            Payload::Reply(r) => assert_eq!(r.force.as_deref(), Some("west")),
            p => assert_eq!(p.transfer(), Some(&note), "{}", c["name"]),
        }
    }
}
