//! Structure-aware fuzzing of the parsers the console runs on hostile input
//! (threat-model/adversaries.md#an-attacker-in-control-of-the-server, the
//! console's side, and threat-model/adversaries.md#a-flooder-or-spammer).
//!
//! `crypto/tests/properties.rs` already feeds arbitrary bytes to every parser;
//! arbitrary bytes rarely get past the first check. These cases start from
//! valid input and change it, so the deeper checks are reached:
//!
//! - the payload parser (`Payload::from_json`, then `ReplyMaterial::decode`,
//!   which the console runs on whatever a reporter sealed): the sample
//!   payload of the test vectors with fields deleted, replaced by random JSON,
//!   retyped or added — never a panic; whatever parses re-serialises to
//!   something that parses to the same value;
//! - the key-file parser (`keyfile::key_file_info`) on a valid key file with
//!   lines edited, removed, duplicated or swapped **and the checksum
//!   recomputed**, so the line checks behind the checksum are reached — never a
//!   panic; and `open_key_file` never releases the key under an edited header.

use proptest::prelude::*;
use quietline_crypto::keyfile::{KdfParams, key_file_info, open_key_file, seal_key_file};
use quietline_crypto::keys::derive_keypair;
use quietline_crypto::payload::Payload;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The sample payload of `crypto/tests/vectors/envelope-v1.json`, case 1.
fn sample_payload() -> Value {
    let vectors: Value =
        serde_json::from_str(include_str!("../../crypto/tests/vectors/envelope-v1.json")).unwrap();
    let hex_payload = vectors["cases"][0]["payload"].as_str().unwrap();
    let v: Value = serde_json::from_slice(&hex::decode(hex_payload).unwrap()).unwrap();
    assert!(Payload::from_json(v.to_string().as_bytes()).is_ok());
    v
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        Just(Value::from(1)),
        Just(Value::from(u32::MAX as u64 + 1)),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,40}".prop_map(Value::String),
        "[A-Za-z0-9_-]{43}".prop_map(Value::String),
        "[0-9a-f]{32}".prop_map(Value::String),
        prop_oneof![
            Just("report"),
            Just("follow-up"),
            Just("reply"),
            Just("2026-11-27T19:45:00Z")
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_]{1,12}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every path (object keys and array indices) to a value inside `v`.
fn paths(v: &Value, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let mut p = prefix.clone();
                p.push(k.clone());
                out.push(p.clone());
                paths(x, p, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let mut p = prefix.clone();
                p.push(i.to_string());
                out.push(p.clone());
                paths(x, p, out);
            }
        }
        _ => {}
    }
}

fn at_mut<'a>(v: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    let mut cur = v;
    for seg in path {
        cur = match cur {
            Value::Object(m) => m.get_mut(seg)?,
            Value::Array(a) => a.get_mut(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

#[derive(Debug, Clone)]
enum Edit {
    Replace(usize, Value),
    Delete(usize),
    Add(usize, String, Value),
    Retype(String),
}

fn apply(v: &mut Value, all: &[Vec<String>], edit: &Edit) {
    match edit {
        Edit::Replace(i, new) => {
            if let Some(x) = at_mut(v, &all[i % all.len()]) {
                *x = new.clone();
            }
        }
        Edit::Delete(i) => {
            let p = &all[i % all.len()];
            let (last, parent) = p.split_last().unwrap();
            match at_mut(v, parent) {
                Some(Value::Object(m)) => {
                    m.remove(last);
                }
                Some(Value::Array(a)) => {
                    if let Ok(i) = last.parse::<usize>()
                        && i < a.len()
                    {
                        a.remove(i);
                    }
                }
                _ => {}
            }
        }
        Edit::Add(i, key, new) => {
            let p = &all[i % all.len()];
            if let Some(Value::Object(m)) = at_mut(v, p) {
                m.insert(key.clone(), new.clone());
            } else if let Value::Object(m) = v {
                m.insert(key.clone(), new.clone());
            }
        }
        Edit::Retype(t) => {
            v["type"] = Value::String(t.clone());
        }
    }
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (any::<usize>(), json_value()).prop_map(|(i, v)| Edit::Replace(i, v)),
        2 => any::<usize>().prop_map(Edit::Delete),
        1 => (any::<usize>(), "[a-z_]{1,10}", json_value()).prop_map(|(i, k, v)| Edit::Add(i, k, v)),
        1 => prop_oneof![Just("report"), Just("follow-up"), Just("reply"), Just("Report"), Just("")]
            .prop_map(|t| Edit::Retype(t.to_owned())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    /// The payload parser on edited valid payloads.
    #[test]
    fn edited_payloads_never_panic_the_parser(edits in proptest::collection::vec(edit(), 1..5)) {
        let mut v = sample_payload();
        for e in &edits {
            let mut all = Vec::new();
            paths(&v, Vec::new(), &mut all);
            if all.is_empty() {
                break;
            }
            apply(&mut v, &all, e);
        }
        let bytes = v.to_string().into_bytes();
        if let Ok(p) = Payload::from_json(&bytes) {
            // What parses is stable: serialise, parse, the same value.
            let again = Payload::from_json(&p.to_json()).expect("re-serialised payload parses");
            prop_assert_eq!(&again, &p);
            let reply = match &p {
                Payload::Report(r) => Some(&r.reply),
                Payload::FollowUp(f) => Some(&f.reply),
                Payload::Reply(_) => None,
            };
            if let Some(r) = reply {
                let _ = r.decode();
            }
        }
        // Cut anywhere: never a panic.
        for cut in [bytes.len() / 3, bytes.len() / 2, bytes.len().saturating_sub(1)] {
            let _ = Payload::from_json(&bytes[..cut]);
        }
    }
}

// ------------------------------------------------------------------ key files

/// A valid key file (cheap Argon2 parameters) and its private key bytes.
fn key_file() -> (String, [u8; 32]) {
    let (sk, _) = derive_keypair(&[3; 32]);
    let mut rng = ChaCha20Rng::from_seed([4; 32]);
    let text = seal_key_file(
        &mut rng,
        &sk,
        "north",
        "2026-01-01",
        b"correct horse",
        KdfParams::INSECURE_FOR_TESTS,
    )
    .unwrap();
    (text, *sk.to_bytes())
}

/// `lines` (without the checksum line) joined, plus a recomputed checksum.
fn with_checksum(lines: &[String]) -> String {
    let mut body = String::new();
    for l in lines {
        body.push_str(l);
        body.push('\n');
    }
    let sum = hex::encode(Sha256::digest(body.as_bytes()));
    format!("{body}checksum: {sum}\n")
}

#[derive(Debug, Clone)]
enum LineEdit {
    /// Replace the value after `name: ` on line `i`.
    Value(usize, String),
    /// Replace the whole line.
    Line(usize, String),
    Remove(usize),
    Duplicate(usize),
    Swap(usize, usize),
    Insert(usize, String),
}

fn line_edit() -> impl Strategy<Value = LineEdit> {
    let value = prop_oneof![
        ".{0,30}",
        "[A-Za-z0-9_-]{0,70}",
        "[0-9a-f]{0,20}",
        "argon2id v=19 m=[0-9]{1,8} t=[0-9]{1,3} p=[0-9]{1,3}",
        Just("argon2id v=19 m=64 t=1 p=1 extra=1".to_owned()),
        Just("argon2id v=19 m=1048577 t=1 p=1".to_owned()),
        Just("argon2id v=19 m=8 t=1 p=2".to_owned()),
        Just("chacha20poly1305 ".to_owned()),
    ];
    prop_oneof![
        4 => (0usize..12, value).prop_map(|(i, v)| LineEdit::Value(i, v)),
        1 => (0usize..12, ".{0,40}").prop_map(|(i, l)| LineEdit::Line(i, l)),
        1 => (0usize..12).prop_map(LineEdit::Remove),
        1 => (0usize..12).prop_map(LineEdit::Duplicate),
        1 => (0usize..12, 0usize..12).prop_map(|(a, b)| LineEdit::Swap(a, b)),
        1 => (0usize..12, "[a-z]{1,8}: .{0,20}").prop_map(|(i, l)| LineEdit::Insert(i, l)),
    ]
}

fn apply_line(lines: &mut Vec<String>, e: &LineEdit) {
    let n = lines.len();
    if n == 0 {
        return;
    }
    match e {
        LineEdit::Value(i, v) => {
            let l = &mut lines[i % n];
            let name = l.split_once(": ").map(|(k, _)| k.to_owned());
            *l = match name {
                Some(k) => format!("{k}: {v}"),
                None => v.clone(),
            };
        }
        LineEdit::Line(i, l) => lines[i % n] = l.replace('\n', " "),
        LineEdit::Remove(i) => {
            lines.remove(i % n);
        }
        LineEdit::Duplicate(i) => {
            let l = lines[i % n].clone();
            lines.insert(i % n, l);
        }
        LineEdit::Swap(a, b) => lines.swap(a % n, b % n),
        LineEdit::Insert(i, l) => lines.insert(i % (n + 1), l.replace('\n', " ")),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, failure_persistence: None, ..ProptestConfig::default() })]

    /// The key-file header parser, past the checksum.
    #[test]
    fn edited_key_files_never_panic_the_parser(edits in proptest::collection::vec(line_edit(), 1..4)) {
        let (text, _) = key_file();
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        lines.pop(); // the checksum line
        for e in &edits {
            apply_line(&mut lines, e);
        }
        let edited = with_checksum(&lines);
        if let Ok(info) = key_file_info(&edited) {
            // Accepted: then it says what its lines say.
            let says = [
                format!("\nforce: {}\n", info.force_id),
                format!("\npublic-key: {}\n", info.public_key.to_base64url()),
                format!("\nkey-id: {}\n", info.key_id.to_hex()),
            ];
            for line in says {
                prop_assert!(edited.contains(&line), "{:?} lacks {:?}", edited, line);
            }
        }
        // The same edits with the OLD checksum: a damaged file (unless no
        // edit changed anything).
        let stale = format!("{}\n{}", lines.join("\n"), text.lines().last().unwrap());
        if stale.trim_end() != text.trim_end() {
            prop_assert!(key_file_info(&stale).is_err());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    /// An edited header, checksum recomputed, never releases the key: the
    /// header is the AEAD's associated data. (Argon2 parameters are kept
    /// cheap: an edit that raises them is refused here without running it.)
    #[test]
    fn edited_key_files_never_release_the_key(edits in proptest::collection::vec(line_edit(), 1..3)) {
        let (text, sk) = key_file();
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        lines.pop();
        let original = lines.clone();
        for e in &edits {
            apply_line(&mut lines, e);
        }
        let edited = with_checksum(&lines);
        let Ok(info) = key_file_info(&edited) else { return Ok(()); };
        if info.kdf.m_kib > 4096 || info.kdf.t > 4 || info.kdf.p > 4 {
            return Ok(());
        }
        if let Ok((opened_info, key)) = open_key_file(&edited, b"correct horse") {
            // Only an edit that changed nothing the AEAD covers may open.
            prop_assert_eq!(&lines[..9], &original[..9], "an edited header released the key");
            prop_assert_eq!(*key.to_bytes(), sk);
            prop_assert_eq!(opened_info, info);
        }
    }
}
