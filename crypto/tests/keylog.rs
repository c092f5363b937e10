//! The key log against its vectors (FORMAT.md#test-vectors) and against
//! the Certificate Transparency reference tree: the committed file is what
//! the generator makes; every root, inclusion proof and consistency proof in
//! it is recomputed here by a second implementation written from RFC 9162
//! §2.1 alone (the recursive MTH, PATH and SUBPROOF definitions, not the
//! `ct-merkle` crate the library uses), and the library verifies each; the
//! checkpoints' key id and signatures are checked with SHA-256 and Ed25519
//! directly; every refusal fails with its stated code.

mod common;

use ed25519_dalek::{Signature, VerifyingKey};
use quietline_crypto::keylog::{self, Checkpoint, LogKey, LogSigner};
use serde_json::Value;
use sha2::{Digest, Sha256};

use common::keylog_vectors;

fn load() -> Value {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/keylog-v1.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn hx(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("hex string")).expect("valid hex")
}

fn h32(v: &Value) -> [u8; 32] {
    hx(v).try_into().unwrap()
}

fn hashes(v: &Value) -> Vec<[u8; 32]> {
    v.as_array().unwrap().iter().map(h32).collect()
}

// --- RFC 9162 §2.1, written from the text -------------------------------

fn leaf(d: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(d);
    h.finalize().into()
}

fn node(l: &[u8; 32], r: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(l);
    h.update(r);
    h.finalize().into()
}

/// The largest power of two smaller than n (n > 1).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// MTH(D[n]) (§2.1.1).
fn mth(d: &[Vec<u8>]) -> [u8; 32] {
    match d.len() {
        0 => Sha256::digest(b"").into(),
        1 => leaf(&d[0]),
        n => {
            let k = split(n);
            node(&mth(&d[..k]), &mth(&d[k..]))
        }
    }
}

/// PATH(m, D[n]) (§2.1.3.1).
fn path(m: usize, d: &[Vec<u8>]) -> Vec<[u8; 32]> {
    let n = d.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = split(n);
    if m < k {
        let mut p = path(m, &d[..k]);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = path(m - k, &d[k..]);
        p.push(mth(&d[..k]));
        p
    }
}

/// SUBPROOF(m, D[n], b) (§2.1.4.1).
fn subproof(m: usize, d: &[Vec<u8>], b: bool) -> Vec<[u8; 32]> {
    let n = d.len();
    if m == n {
        return if b { Vec::new() } else { vec![mth(d)] };
    }
    let k = split(n);
    if m <= k {
        let mut p = subproof(m, &d[..k], b);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = subproof(m - k, &d[k..], false);
        p.push(mth(&d[..k]));
        p
    }
}

/// PROOF(m, D[n]) (§2.1.4.1), empty for 0 < m = n.
fn proof(m: usize, d: &[Vec<u8>]) -> Vec<[u8; 32]> {
    subproof(m, d, true)
}

// --- the vectors ---------------------------------------------------------

#[test]
fn committed_keylog_vectors_are_what_the_generator_makes() {
    // After an intended change: `cargo run -p quietline-crypto --example gen-vectors`.
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/keylog-v1.json");
    let committed = std::fs::read_to_string(path).unwrap();
    assert!(
        committed == common::vectors::render(&keylog_vectors::keylog_vectors()),
        "keylog-v1.json differs from the generator's output"
    );
}

#[test]
fn entries_are_statements_and_leaves_roots_and_proofs_match_rfc_9162() {
    let v = load();
    let entries: Vec<Vec<u8>> = v["entries"].as_array().unwrap().iter().map(hx).collect();
    // The entries are key statements exactly as signed.
    for e in &entries {
        quietline_crypto::statement::SignedStatement::parse(e).unwrap();
    }
    for (e, l) in entries.iter().zip(v["leaf_hashes"].as_array().unwrap()) {
        assert_eq!(leaf(e), h32(l));
        assert_eq!(keylog::leaf_hash(e), h32(l));
    }
    for r in v["roots"].as_array().unwrap() {
        let k = r["size"].as_u64().unwrap() as usize;
        assert_eq!(mth(&entries[..k]), h32(&r["root"]), "size {k}");
        assert_eq!(keylog::tree_root(&entries[..k]).unwrap(), h32(&r["root"]));
    }
    for p in v["inclusion"].as_array().unwrap() {
        let (i, n) = (p["index"].as_u64().unwrap(), p["size"].as_u64().unwrap());
        let want = hashes(&p["hashes"]);
        let tree = &entries[..n as usize];
        assert_eq!(path(i as usize, tree), want, "PATH({i}, D[{n}])");
        keylog::verify_inclusion(&entries[i as usize], i, n, &want, &mth(tree)).unwrap();
    }
    for p in v["consistency"].as_array().unwrap() {
        let (m, n) = (p["from"].as_u64().unwrap(), p["to"].as_u64().unwrap());
        let want = hashes(&p["hashes"]);
        let tree = &entries[..n as usize];
        assert_eq!(proof(m as usize, tree), want, "PROOF({m}, D[{n}])");
        keylog::verify_consistency(m, n, &want, &mth(&entries[..m as usize]), &mth(tree)).unwrap();
    }
}

#[test]
fn checkpoints_key_id_and_signatures_checked_directly() {
    let v = load();
    let k = &v["log_key"];
    let origin = k["origin"].as_str().unwrap();
    let public: [u8; 32] = h32(&k["public_key"]);
    // key id = SHA-256(name || 0x0A || 0x01 || public key)[:4] (C2SP signed-note).
    let mut h = Sha256::new();
    h.update(origin.as_bytes());
    h.update([0x0A, 0x01]);
    h.update(public);
    let id = hex::encode(&h.finalize()[..4]);
    assert_eq!(k["key_id"], id);
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut raw = vec![1u8];
    raw.extend_from_slice(&public);
    assert_eq!(k["vkey"], format!("{origin}+{id}+{}", b64.encode(&raw)));
    let seed: [u8; 32] = h32(&k["seed"]);
    assert_eq!(
        ed25519_dalek::SigningKey::from_bytes(&seed)
            .verifying_key()
            .to_bytes(),
        public
    );
    let key = LogKey::from_vkey(k["vkey"].as_str().unwrap()).unwrap();
    let vk = VerifyingKey::from_bytes(&public).unwrap();
    for c in v["checkpoints"].as_array().unwrap() {
        let note = c["note"].as_str().unwrap();
        let size = c["size"].as_u64().unwrap();
        let root = h32(&c["root"]);
        let body = format!("{origin}\n{size}\n{}\n", b64.encode(root));
        // The note is the body, a blank line, and one signature line.
        let (text, sig_line) = note.split_once("\n\n").unwrap();
        assert_eq!(format!("{text}\n"), body);
        let sig_line = sig_line.strip_suffix('\n').unwrap();
        let rest = sig_line.strip_prefix("\u{2014} ").unwrap();
        let (name, sig) = rest.split_once(' ').unwrap();
        assert_eq!(name, origin);
        let sig = b64.decode(sig).unwrap();
        assert_eq!(hex::encode(&sig[..4]), id);
        vk.verify_strict(body.as_bytes(), &Signature::from_slice(&sig[4..]).unwrap())
            .unwrap();
        // The library opens it, and signs the same note from the seed.
        let cp = key.open_checkpoint(note).unwrap();
        assert_eq!(
            cp,
            Checkpoint {
                origin: origin.into(),
                size,
                root
            }
        );
        let signer = LogSigner::from_seed(origin, &seed).unwrap();
        assert_eq!(signer.sign_checkpoint(size, &root), note);
    }
    for r in v["refusals"].as_array().unwrap() {
        let got = key
            .open_checkpoint(r["note"].as_str().unwrap())
            .unwrap_err();
        assert_eq!(got.code(), r["error"], "{}", r["name"]);
    }
}

// --- the Certificate Transparency reference tree -------------------------
// The eight leaves, tree heads and proofs of Certificate Transparency's
// merkle_tree_test.cc, as carried by transparency-dev/merkle's
// proof/verify_test.go (formerly google/trillian merkle/log_verifier_test.go).

const CT_LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

const CT_ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// (index, size, proof)
const CT_INCLUSION: [(u64, u64, &[&str]); 5] = [
    (0, 1, &[]),
    (
        0,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        3,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        1,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

/// (from, to, proof)
const CT_CONSISTENCY: [(u64, u64, &[&str]); 4] = [
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

fn ct(hs: &[&str]) -> Vec<[u8; 32]> {
    hs.iter()
        .map(|h| hex::decode(h).unwrap().try_into().unwrap())
        .collect()
}

#[test]
fn the_certificate_transparency_reference_tree() {
    let leaves: Vec<Vec<u8>> = CT_LEAVES.iter().map(|h| hex::decode(h).unwrap()).collect();
    for (n, root) in CT_ROOTS.iter().enumerate() {
        assert_eq!(
            hex::encode(keylog::tree_root(&leaves[..n]).unwrap()),
            *root,
            "size {n}"
        );
        assert_eq!(hex::encode(mth(&leaves[..n])), *root, "MTH, size {n}");
    }
    for (i, n, p) in CT_INCLUSION {
        let want = ct(p);
        let tree = &leaves[..n as usize];
        assert_eq!(
            keylog::inclusion_proof(tree, i).unwrap(),
            want,
            "{i} in {n}"
        );
        assert_eq!(path(i as usize, tree), want);
        let root: [u8; 32] = hex::decode(CT_ROOTS[n as usize])
            .unwrap()
            .try_into()
            .unwrap();
        keylog::verify_inclusion(&leaves[i as usize], i, n, &want, &root).unwrap();
    }
    for (m, n, p) in CT_CONSISTENCY {
        let want = ct(p);
        let tree = &leaves[..n as usize];
        assert_eq!(
            keylog::consistency_proof(tree, m).unwrap(),
            want,
            "{m} to {n}"
        );
        assert_eq!(proof(m as usize, tree), want);
        let old: [u8; 32] = hex::decode(CT_ROOTS[m as usize])
            .unwrap()
            .try_into()
            .unwrap();
        let new: [u8; 32] = hex::decode(CT_ROOTS[n as usize])
            .unwrap()
            .try_into()
            .unwrap();
        keylog::verify_consistency(m, n, &want, &old, &new).unwrap();
    }
    // And the second implementation agrees with the library on every proof
    // of the eight-leaf tree, not just the published ones.
    for n in 1..=8usize {
        let tree = &leaves[..n];
        for i in 0..n {
            assert_eq!(
                keylog::inclusion_proof(tree, i as u64).unwrap(),
                path(i, tree)
            );
        }
        for m in 1..=n {
            assert_eq!(
                keylog::consistency_proof(tree, m as u64).unwrap(),
                proof(m, tree)
            );
        }
    }
}
