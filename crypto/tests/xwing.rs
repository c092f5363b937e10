//! The X-Wing suite (FORMAT.md#suite): the draft's reference KEM vectors,
//! Quietline's X-Wing envelope vectors, and the v1 property tests for the
//! hybrid (every bit flip rejected, every length checked).

mod common;

use hpke::{Deserializable, OpModeS, Serializable};
use proptest::prelude::*;
use quietline_crypto::Suite;
use quietline_crypto::envelope::{EnvelopeError, Kind, MAX_ENVELOPE_LEN, XWING_ENC_LEN, parse};
use quietline_crypto::keys::{PrivateKey, PublicKey, generate_keypair_for};
use quietline_crypto::open::open;
use quietline_crypto::payload::{Payload, ReplyMaterial};
use quietline_crypto::reply_code::ReplyCode;
use quietline_crypto::seal::{seal_reply, seal_report};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde_json::Value;

use common::fixed_rng::FixedRng;
use common::{vectors, xwing_vectors};

type XWing = hpke::kem::XWing;

fn load(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn hx(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("hex string")).expect("valid hex")
}

/// The X-Wing draft's own vectors (seed → keys, eseed → ciphertext and
/// shared secret), as shipped with hpke-js's `@hpke/hybridkem-x-wing`: the
/// key pair and `enc` through the `hpke` crate's HPKE sender, the shared
/// secret through the `x-wing` crate.
#[test]
fn xwing_draft_reference_vectors() {
    use x_wing::kem::Decapsulate as _;
    let all = load("xwing-kem-draft-connolly-cfrg-xwing-kem.json");
    let cases = all.as_array().unwrap();
    assert_eq!(cases.len(), 3);
    for t in cases {
        let seed = hx(&t["seed"]);
        let sk = PrivateKey::from_suite_bytes(Suite::XWing, &seed).unwrap();
        assert_eq!(sk.to_bytes().as_slice(), hx(&t["sk"]).as_slice());
        let pk = sk.public_key();
        assert_eq!(pk.as_bytes(), hx(&t["pk"]).as_slice());
        assert_eq!(PublicKey::from_bytes(&hx(&t["pk"])).unwrap(), pk);
        // HPKE's encapsulation draws exactly the 64-octet eseed.
        let pk_h = <XWing as hpke::Kem>::PublicKey::from_bytes(pk.as_bytes()).unwrap();
        let mut rng = FixedRng::new(&hx(&t["eseed"]));
        let (enc, _) = hpke::setup_sender_with_rng::<
            hpke::aead::ChaCha20Poly1305,
            hpke::kdf::HkdfSha256,
            XWing,
        >(&OpModeS::Base, &pk_h, b"", &mut rng)
        .unwrap();
        assert_eq!(enc.to_bytes().as_slice(), hx(&t["ct"]).as_slice());
        let dk = x_wing::DecapsulationKey::from(<[u8; 32]>::try_from(seed.as_slice()).unwrap());
        let ss = dk.decapsulate_slice(&hx(&t["ct"])).unwrap();
        assert_eq!(ss.as_slice(), hx(&t["ss"]).as_slice());
    }
}

#[test]
fn committed_xwing_vectors_are_exactly_what_the_generator_makes() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors/envelope-xwing-v1.json");
    let committed = std::fs::read_to_string(path).unwrap();
    assert!(
        committed == vectors::render(&xwing_vectors::envelope_vectors()),
        "envelope-xwing-v1.json differs from the generator; run `cargo run -p quietline-crypto --example gen-vectors`"
    );
}

#[test]
fn xwing_envelope_vectors_seal_open_and_fail_as_stated() {
    let v = load("envelope-xwing-v1.json");
    let mut positives = 0;
    for c in v["cases"].as_array().unwrap() {
        let kind = if c["kind"].as_u64() == Some(2) {
            Kind::Reply
        } else {
            Kind::Report
        };
        let suite = match c["suite"].as_str() {
            Some(name) => Suite::from_name(name).unwrap(),
            None => Suite::XWing,
        };
        let sk = PrivateKey::from_suite_bytes(suite, &hx(&c["recipient_sk"])).unwrap();
        let envelope = hx(&c["envelope"]);
        if let Some(err) = c["error"].as_str() {
            let got = open(&sk, kind, &envelope).unwrap_err();
            assert_eq!(got.code(), err, "{}", c["name"]);
            continue;
        }
        positives += 1;
        let pk = sk.public_key();
        assert_eq!(pk.suite(), Suite::XWing);
        assert_eq!(pk.as_bytes(), hx(&c["recipient_pk"]).as_slice());
        let env = parse(&envelope).unwrap();
        assert_eq!(env.suite(), Suite::XWing);
        assert_eq!(env.enc().len(), XWING_ENC_LEN);
        assert_eq!(env.key_id().to_hex(), c["key_id"].as_str().unwrap());
        let payload = open(&sk, kind, &envelope).unwrap();
        assert_eq!(payload.as_slice(), hx(&c["payload"]).as_slice());
        // Sealing again with the same eseed gives the same octets.
        let mut rng = FixedRng::new(&hx(&c["eph_ikm"]));
        let routing = hx(&c["routing"]);
        let sealed = match kind {
            Kind::Report => seal_report(
                &mut rng,
                std::str::from_utf8(&routing).unwrap(),
                &pk,
                &hx(&c["payload"]),
            ),
            Kind::Reply => seal_reply(
                &mut rng,
                routing.try_into().unwrap(),
                &pk,
                &hx(&c["payload"]),
            ),
        }
        .unwrap();
        assert_eq!(sealed, envelope, "{}", c["name"]);
    }
    assert_eq!(positives, 4);
    // The third case is the longest envelope there is.
    assert_eq!(hx(&v["cases"][2]["envelope"]).len(), MAX_ENVELOPE_LEN);
    // Each reply-code case's X-Wing reply key.
    for r in v["reply_keys"].as_array().unwrap() {
        let s =
            ReplyCode::from_entropy(hx(&r["entropy"]).try_into().unwrap()).derive_for(Suite::XWing);
        assert_eq!(
            s.reply_sk.to_bytes().as_slice(),
            hx(&r["reply_sk"]).as_slice()
        );
        assert_eq!(s.reply_pk.as_bytes(), hx(&r["reply_pk"]).as_slice());
    }
}

#[test]
fn xwing_report_payload_carries_the_suite_of_its_reply_material() {
    let v = load("envelope-xwing-v1.json");
    let payload = hx(&v["cases"][0]["payload"]);
    let Payload::Report(r) = Payload::from_json(&payload).unwrap() else {
        panic!("a report");
    };
    assert_eq!(r.reply.suite, "xwing");
    let (pk, _, _) = r.reply.decode().unwrap();
    assert_eq!(pk.suite(), Suite::XWing);
    // An X25519 key under the name xwing, or the reverse, is refused.
    let x = ReplyMaterial::from_secrets(&ReplyCode::from_entropy([3; 16]).derive());
    assert_eq!(x.suite, "x25519");
    let json = String::from_utf8(serde_json::to_vec(&x).unwrap()).unwrap();
    assert!(
        !json.contains("suite"),
        "X25519 material is written as before: {json}"
    );
    let lying = ReplyMaterial {
        suite: "xwing".into(),
        ..x
    };
    assert!(lying.decode().is_err());
    let unknown = ReplyMaterial {
        suite: "kyber".into(),
        ..r.reply.clone()
    };
    assert!(unknown.decode().is_err());
}

#[test]
fn every_single_bit_flip_of_an_xwing_envelope_is_rejected() {
    let mut rng = ChaCha20Rng::from_seed([9; 32]);
    let (sk, pk) = generate_keypair_for(Suite::XWing, &mut rng);
    let env = seal_report(&mut rng, "demo", &pk, b"{\"v\":1}").unwrap();
    assert_eq!(env.len(), 19 + 4 + 1120 + 1024 + 16);
    assert!(open(&sk, Kind::Report, &env).is_ok());
    for i in 0..env.len() {
        for bit in 0..8 {
            let mut e = env.clone();
            e[i] ^= 1 << bit;
            assert!(
                open(&sk, Kind::Report, &e).is_err(),
                "flip of bit {bit} in byte {i} was accepted"
            );
        }
    }
}

#[test]
fn every_length_of_an_xwing_envelope_is_checked() {
    let mut rng = ChaCha20Rng::from_seed([4; 32]);
    let (_, pk) = generate_keypair_for(Suite::XWing, &mut rng);
    let env = seal_report(&mut rng, "demo", &pk, b"{}").unwrap();
    let header = 19 + 4;
    for n in 0..env.len() {
        let err = parse(&env[..n]).unwrap_err();
        // Short of the magic, the fixed header or the 1120-byte enc: truncated.
        let want = if n < header + XWING_ENC_LEN {
            EnvelopeError::Truncated(n)
        } else {
            EnvelopeError::BadCiphertextLength(n - header - XWING_ENC_LEN)
        };
        assert_eq!(err, want, "prefix of {n} bytes");
    }
    let mut longer = env.clone();
    longer.push(0);
    assert_eq!(
        parse(&longer).unwrap_err(),
        EnvelopeError::BadCiphertextLength(1041)
    );
    assert!(parse(&env).is_ok());
}

#[test]
fn a_suite_mismatch_is_refused_before_decryption() {
    let code = ReplyCode::from_entropy([8; 16]);
    let hybrid = code.derive_for(Suite::XWing);
    let classic = code.derive();
    assert_eq!(
        hybrid.thread_id, classic.thread_id,
        "only the reply key differs"
    );
    assert_eq!(hybrid.slot_key, classic.slot_key);
    assert_ne!(hybrid.reply_sk.to_bytes(), classic.reply_sk.to_bytes());
    let mut rng = ChaCha20Rng::from_seed([1; 32]);
    let env = seal_reply(
        &mut rng,
        hybrid.slot_key.address(0),
        &hybrid.reply_pk,
        b"{}",
    )
    .unwrap();
    assert_eq!(
        open(&classic.reply_sk, Kind::Reply, &env)
            .unwrap_err()
            .code(),
        "wrong_suite"
    );
    assert_eq!(
        open(&hybrid.reply_sk, Kind::Reply, &env)
            .unwrap()
            .as_slice(),
        b"{}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn xwing_report_and_reply_round_trip(seed in any::<[u8; 32]>(), payload in proptest::collection::vec(any::<u8>(), 0..3000), force in "[a-z0-9-]{1,64}") {
        let mut rng = ChaCha20Rng::from_seed(seed);
        let (sk, pk) = generate_keypair_for(Suite::XWing, &mut rng);
        let env = seal_report(&mut rng, &force, &pk, &payload).unwrap();
        let opened = open(&sk, Kind::Report, &env).unwrap();
        prop_assert_eq!(opened.as_slice(), payload.as_slice());
        let (other, _) = generate_keypair_for(Suite::XWing, &mut rng);
        prop_assert_eq!(open(&other, Kind::Report, &env).unwrap_err().code(), "wrong_key");
        let s = ReplyCode::from_entropy(seed[..16].try_into().unwrap()).derive_for(Suite::XWing);
        let reply = seal_reply(&mut rng, s.slot_key.address(3), &s.reply_pk, &payload).unwrap();
        let opened = open(&s.reply_sk, Kind::Reply, &reply).unwrap();
        prop_assert_eq!(opened.as_slice(), payload.as_slice());
    }

    #[test]
    fn arbitrary_bytes_after_an_xwing_header_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..2500)) {
        let mut e = b"QL\x01\x01\x64\x7a\x00\x01\x00\x03".to_vec();
        e.extend_from_slice(&[0u8; 8]);
        e.push(4);
        e.extend_from_slice(b"demo");
        e.extend_from_slice(&tail);
        let _ = parse(&e);
    }
}

#[test]
fn an_xwing_key_file_round_trips_and_names_its_suite() {
    use quietline_crypto::keyfile::{KdfParams, key_file_info, open_key_file, seal_key_file};
    let mut rng = ChaCha20Rng::from_seed([6; 32]);
    let (sk, pk) = generate_keypair_for(Suite::XWing, &mut rng);
    let text = seal_key_file(
        &mut rng,
        &sk,
        "demo",
        "2026-12-06",
        b"pass phrase",
        KdfParams::INSECURE_FOR_TESTS,
    )
    .unwrap();
    let info = key_file_info(&text).unwrap();
    assert_eq!(info.public_key, pk);
    assert_eq!(info.public_key.suite(), Suite::XWing);
    let (_, opened) = open_key_file(&text, b"pass phrase").unwrap();
    assert_eq!(opened.suite(), Suite::XWing);
    assert_eq!(opened.to_bytes(), sk.to_bytes());
    assert_eq!(
        open_key_file(&text, b"wrong").unwrap_err().to_string(),
        "wrong passphrase for this key file"
    );
}
