//! The key-log vectors of FORMAT.md#test-vectors (`keylog-v1.json`),
//! built from fixed inputs: the three statements of `statement-v1.json`
//! (force `demo`) and two of a force `north`, as the log's entries in that
//! order; the root of every size, every inclusion and consistency proof of
//! the five-entry tree; checkpoints at sizes 4 and 5 signed by a log key from
//! a fixed seed; and notes a reader must refuse, with their codes.

use quietline_crypto::keylog::{self, Checkpoint, LogSigner};
use quietline_crypto::keys::{Suite, derive_keypair_for};
use quietline_crypto::statement::{KeyStatement, NO_PREVIOUS, SignedStatement, SigningSecret};
use serde_json::{Value, json};

use super::statement_vectors::{FROM, UNTIL, seeds, statement_vectors};
use super::vectors::pattern;

/// The log's origin in the vectors.
pub const ORIGIN: &str = "quietline.example/keylog";

/// The log key's seed.
pub fn log_seed() -> [u8; 32] {
    pattern(80, 32).try_into().unwrap()
}

/// The five entries, in log order.
pub fn entries() -> Vec<Vec<u8>> {
    let v = statement_vectors();
    let mut out: Vec<Vec<u8>> = v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| hex::decode(c["statement"]["signed"].as_str().unwrap()).unwrap())
        .collect();
    let b = SigningSecret::from_seed(&seeds()[1]);
    let (_, pk1) = derive_keypair_for(Suite::X25519, &pattern(81, 32));
    let (_, pk2) = derive_keypair_for(Suite::X25519, &pattern(82, 32));
    let first = KeyStatement {
        force_id: "north".into(),
        public_key: pk1,
        valid_from: FROM,
        valid_until: UNTIL,
        sequence: 0,
        prev_hash: NO_PREVIOUS,
    };
    let second = first.next(pk2, FROM + 50, UNTIL + 50);
    // Interleaved with demo's, as a log of several forces is.
    out.insert(
        1,
        SignedStatement::sign(first, &[&b])
            .unwrap()
            .as_bytes()
            .to_vec(),
    );
    out.push(
        SignedStatement::sign(second, &[&b])
            .unwrap()
            .as_bytes()
            .to_vec(),
    );
    out
}

fn hexes(h: &[keylog::Hash]) -> Vec<String> {
    h.iter().map(hex::encode).collect()
}

/// The contents of `keylog-v1.json`.
pub fn keylog_vectors() -> Value {
    let e = entries();
    let n = e.len() as u64;
    let signer = LogSigner::from_seed(ORIGIN, &log_seed()).unwrap();
    let key = signer.log_key();
    let roots: Vec<Value> = (0..=e.len())
        .map(|k| json!({"size": k, "root": hex::encode(keylog::tree_root(&e[..k]).unwrap())}))
        .collect();
    let mut inclusion = Vec::new();
    let mut consistency = Vec::new();
    for size in 1..=n {
        let tree = &e[..size as usize];
        for index in 0..size {
            inclusion.push(json!({
                "index": index,
                "size": size,
                "hashes": hexes(&keylog::inclusion_proof(tree, index).unwrap()),
            }));
        }
        for from in 1..=size {
            consistency.push(json!({
                "from": from,
                "to": size,
                "hashes": hexes(&keylog::consistency_proof(tree, from).unwrap()),
            }));
        }
    }
    let root4 = keylog::tree_root(&e[..4]).unwrap();
    let root5 = keylog::tree_root(&e).unwrap();
    let cp5 = signer.sign_checkpoint(5, &root5);
    let other = LogSigner::from_seed(ORIGIN, &pattern(83, 32).try_into().unwrap()).unwrap();
    let elsewhere = LogSigner::from_seed("elsewhere.example/keylog", &log_seed()).unwrap();
    let wrong_origin = Checkpoint {
        origin: "elsewhere.example/keylog".into(),
        size: 5,
        root: root5,
    };
    let wrong_origin_note = signer.sign_note(&wrong_origin.body()).unwrap();
    let refusals = vec![
        json!({"name": "root changed after signing", "note": cp5.replace(&format!("\n5\n{}", b64(&root5)), &format!("\n5\n{}", b64(&root4))), "error": "bad_note_signature"}),
        json!({"name": "size changed after signing", "note": cp5.replacen("\n5\n", "\n4\n", 1), "error": "bad_note_signature"}),
        json!({"name": "signed by another key under the same name", "note": other.sign_checkpoint(5, &root5), "error": "not_signed_by_key"}),
        json!({"name": "signed by the same seed under another name", "note": elsewhere.sign_checkpoint(5, &root5), "error": "not_signed_by_key"}),
        json!({"name": "a checkpoint of another origin signed by this key", "note": wrong_origin_note, "error": "wrong_origin"}),
        json!({"name": "no blank line before the signature", "note": cp5.replacen("\n\n", "\n", 1), "error": "malformed_note"}),
        json!({"name": "size with a leading zero", "note": signer.sign_note(&format!("{ORIGIN}\n05\n{}\n", b64(&root5))).unwrap(), "error": "malformed_checkpoint"}),
    ];
    json!({
        "description": "Quietline key log v1 known-answer vectors (crypto/FORMAT.md#key-log). Entries are key statements' signed octets (hex); leaf = SHA-256(0x00 || entry), node = SHA-256(0x01 || left || right) (RFC 9162 section 2.1); proofs list hashes from the leaf up (RFC 9162 sections 2.1.3 and 2.1.4); checkpoints are C2SP tlog-checkpoint bodies in C2SP signed notes, Ed25519 (signature type 0x01). Entries 0, 2 and 3 are the cases of statement-v1.json.",
        "log_key": {
            "origin": ORIGIN,
            "seed": hex::encode(log_seed()),
            "public_key": hex::encode(key.public_key()),
            "key_id": format!("{:08x}", key.key_id()),
            "vkey": key.to_vkey(),
        },
        "entries": e.iter().map(hex::encode).collect::<Vec<_>>(),
        "leaf_hashes": e.iter().map(|x| hex::encode(keylog::leaf_hash(x))).collect::<Vec<_>>(),
        "roots": roots,
        "inclusion": inclusion,
        "consistency": consistency,
        "checkpoints": [
            {"size": 4, "root": hex::encode(root4), "note": signer.sign_checkpoint(4, &root4)},
            {"size": 5, "root": hex::encode(root5), "note": cp5},
        ],
        "refusals": refusals,
    })
}

fn b64(h: &keylog::Hash) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(h)
}
