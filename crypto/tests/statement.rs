//! Key statements against their vectors (FORMAT.md#statement-vectors): the
//! committed file is what the generator makes; each case's body is rebuilt
//! here from its fields by an encoder written from FORMAT.md alone, its hash
//! and every signature are checked with SHA-256 and Ed25519 directly, and
//! the library accepts it; every refusal fails with its stated code.

mod common;

use ed25519_dalek::{Signature, VerifyingKey};
use quietline_crypto::keys::Suite;
use quietline_crypto::statement::{SignedStatement, SignerKey, SignerSet, SigningSecret};
use serde_json::Value;
use sha2::{Digest, Sha256};

use common::statement_vectors;

fn load() -> Value {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/statement-v1.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn hx(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("hex string")).expect("valid hex")
}

fn set(v: &Value, case: &Value) -> SignerSet {
    let keys = case["signer_set"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            SignerKey::from_bytes(&hx(
                &v["signers"][i.as_u64().unwrap() as usize]["public_key"],
            ))
            .unwrap()
        })
        .collect();
    SignerSet::new(keys, case["threshold"].as_u64().unwrap() as usize).unwrap()
}

/// FORMAT.md#statement-encoding, written again from the text.
fn encode_body(s: &Value) -> Vec<u8> {
    let force = s["force"].as_str().unwrap().as_bytes();
    let pk = hx(&s["public_key"]);
    let kem: u16 = match s["suite"].as_str().unwrap() {
        "x25519" => 0x0020,
        "xwing" => 0x647a,
        other => panic!("suite {other}"),
    };
    let mut b = b"QLKS".to_vec();
    b.push(1);
    b.push(force.len() as u8);
    b.extend_from_slice(force);
    b.extend_from_slice(&hx(&s["key_id"]));
    b.extend_from_slice(&kem.to_be_bytes());
    b.extend_from_slice(&(pk.len() as u16).to_be_bytes());
    b.extend_from_slice(&pk);
    b.extend_from_slice(&(s["valid_from"].as_u64().unwrap() as u32).to_be_bytes());
    b.extend_from_slice(&(s["valid_until"].as_u64().unwrap() as u32).to_be_bytes());
    b.extend_from_slice(&s["sequence"].as_u64().unwrap().to_be_bytes());
    b.extend_from_slice(&hx(&s["prev_hash"]));
    b
}

#[test]
fn committed_statement_vectors_are_what_the_generator_makes() {
    // After an intended change: `cargo run -p quietline-crypto --example gen-vectors`.
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/statement-v1.json");
    let committed = std::fs::read_to_string(path).unwrap();
    assert!(
        committed == common::vectors::render(&statement_vectors::statement_vectors()),
        "statement-v1.json differs from the generator's output"
    );
}

#[test]
fn rfc8032_public_keys_from_seeds() {
    // RFC 8032 section 7.1, TEST 1 and TEST 2.
    for (seed, pk) in [
        (
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        ),
        (
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        ),
    ] {
        let seed: [u8; 32] = hex::decode(seed).unwrap().try_into().unwrap();
        assert_eq!(
            hex::encode(SigningSecret::from_seed(&seed).public_key().to_bytes()),
            pk
        );
    }
}

#[test]
fn cases_encode_hash_sign_and_verify_as_stated() {
    let v = load();
    for signer in v["signers"].as_array().unwrap() {
        let seed: [u8; 32] = hx(&signer["seed"]).try_into().unwrap();
        let pk = SigningSecret::from_seed(&seed).public_key();
        assert_eq!(
            hex::encode(pk.to_bytes()),
            signer["public_key"].as_str().unwrap()
        );
        // signer id = SHA-256("quietline/v1/signer-id" ‖ public key)[0..8]
        let id = Sha256::new()
            .chain_update(b"quietline/v1/signer-id")
            .chain_update(pk.to_bytes())
            .finalize();
        assert_eq!(hex::encode(&id[..8]), signer["signer_id"].as_str().unwrap());
    }
    let mut seen: Vec<SignedStatement> = Vec::new();
    for case in v["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let s = &case["statement"];
        let signed = hx(&s["signed"]);
        let body = encode_body(s);
        assert_eq!(&signed[..body.len()], &body[..], "{name}: body");
        assert_eq!(
            hex::encode(Sha256::digest(&body)),
            s["hash"].as_str().unwrap(),
            "{name}: hash"
        );
        // The rest: a count, then (signer id, signature) pairs, each verifying directly.
        let rest = &signed[body.len()..];
        let n = rest[0] as usize;
        assert_eq!(rest.len(), 1 + 72 * n, "{name}");
        for (i, chunk) in rest[1..].chunks(72).enumerate() {
            let signer = v["signers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|g| hx(&g["signer_id"]) == chunk[..8])
                .expect("a known signer");
            assert_eq!(hex::encode(&chunk[..8]), s["signers"][i].as_str().unwrap());
            let vk =
                VerifyingKey::from_bytes(&hx(&signer["public_key"]).try_into().unwrap()).unwrap();
            vk.verify_strict(
                &body,
                &Signature::from_bytes(&chunk[8..].try_into().unwrap()),
            )
            .unwrap_or_else(|_| panic!("{name}: signature {i}"));
        }
        let p = SignedStatement::parse(&signed).unwrap();
        assert_eq!(
            SignedStatement::from_base64url(s["signed_base64url"].as_str().unwrap()).unwrap(),
            p
        );
        let st = p.verify(&set(&v, case), "demo").unwrap();
        assert_eq!(st.key_id().to_hex(), s["key_id"].as_str().unwrap());
        assert_eq!(
            st.public_key.suite(),
            Suite::from_name(s["suite"].as_str().unwrap()).unwrap()
        );
        let prev = case["previous"]
            .as_u64()
            .map(|i| seen[i as usize].statement().clone());
        st.follows(prev.as_ref())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        seen.push(p);
    }
}

#[test]
fn refusals_fail_with_their_codes() {
    let v = load();
    for r in v["refusals"].as_array().unwrap() {
        let name = r["name"].as_str().unwrap();
        let got = SignedStatement::parse(&hx(&r["signed"])).and_then(|p| {
            p.verify(&set(&v, r), r["force"].as_str().unwrap())
                .map(|_| ())
        });
        assert_eq!(
            got.map_err(|e| e.code()),
            Err(r["error"].as_str().unwrap()),
            "{name}"
        );
    }
    let cases = v["cases"].as_array().unwrap();
    for r in v["chain_refusals"].as_array().unwrap() {
        let name = r["name"].as_str().unwrap();
        let p = SignedStatement::parse(&hx(&r["signed"])).unwrap();
        let prev = r["previous"].as_u64().map(|i| {
            SignedStatement::parse(&hx(&cases[i as usize]["statement"]["signed"]))
                .unwrap()
                .statement()
                .clone()
        });
        assert_eq!(
            p.statement().follows(prev.as_ref()).map_err(|e| e.code()),
            Err(r["error"].as_str().unwrap()),
            "{name}"
        );
    }
}
