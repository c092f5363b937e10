//! The own-copy vectors of FORMAT.md#test-vectors (`copy-v1.json`), built
//! from fixed inputs: each reply-code case's copy box, copies sealed with a
//! fixed ephemeral key in both suites, and conversation-order cases.

use quietline_crypto::copy::{OwnCopy, Place, copy_box, order, seal_copy};
use quietline_crypto::keys::Suite;
use quietline_crypto::payload::{Common, FollowUp, Payload, ReplyMaterial};
use quietline_crypto::reply_code::ReplyCode;
use serde_json::{Value, json};

use super::fixed_rng::FixedRng;
use super::vectors::{pattern, reply_code_entropies, sample_report_for};

struct Sealed {
    name: &'static str,
    suite: Suite,
    eph: u8,
    seq: u32,
    after_replies: u32,
    follow_up: bool,
}

fn cases() -> Vec<Sealed> {
    vec![
        Sealed {
            name: "copy of the sample report, X25519",
            suite: Suite::X25519,
            eph: 41,
            seq: 0,
            after_replies: 0,
            follow_up: false,
        },
        Sealed {
            name: "copy of FORMAT.md's follow-up after one reply, X25519",
            suite: Suite::X25519,
            eph: 42,
            seq: 1,
            after_replies: 1,
            follow_up: true,
        },
        Sealed {
            name: "copy of FORMAT.md's follow-up after one reply, X-Wing",
            suite: Suite::XWing,
            eph: 43,
            seq: 1,
            after_replies: 1,
            follow_up: true,
        },
    ]
}

/// The copy payload of a case, for the first reply-code case's code.
fn copy_of(code: &ReplyCode, c: &Sealed) -> OwnCopy {
    let secrets = code.derive_for(c.suite);
    let sent = if c.follow_up {
        Payload::FollowUp(FollowUp {
            common: Common {
                v: 1,
                sent_at: "2026-11-28T18:30:00Z".into(),
                lang: "en".into(),
            },
            message: "They usually arrive between 10 and 11 at night.".into(),
            attachments: vec![],
            reply: ReplyMaterial::from_secrets(&secrets),
            transfer: None,
        })
    } else {
        Payload::from_json(&sample_report_for(secrets)).unwrap()
    };
    OwnCopy {
        common: Common {
            v: 1,
            sent_at: sent.common().sent_at.clone(),
            lang: "en".into(),
        },
        seq: c.seq,
        after_replies: c.after_replies,
        sent,
    }
}

fn eph_len(suite: Suite) -> usize {
    match suite {
        Suite::X25519 => 32,
        Suite::XWing => 64,
    }
}

/// The contents of `copy-v1.json`.
pub fn copy_vectors() -> Value {
    let boxes: Vec<Value> = reply_code_entropies()
        .into_iter()
        .map(|e| json!({"entropy": hex::encode(e), "copy_box": hex::encode(copy_box(&ReplyCode::from_entropy(e)))}))
        .collect();
    let entropy = reply_code_entropies()[0];
    let code = ReplyCode::from_entropy(entropy);
    let sealed: Vec<Value> = cases()
        .iter()
        .map(|c| {
            let copy = copy_of(&code, c);
            let eph = pattern(c.eph, eph_len(c.suite));
            let envelope = seal_copy(&mut FixedRng::new(&eph), &code, c.suite, &copy).unwrap();
            json!({
                "name": c.name,
                "entropy": hex::encode(entropy),
                "suite": c.suite.name(),
                "eph_ikm": hex::encode(&eph),
                "seq": c.seq,
                "after_replies": c.after_replies,
                "payload": hex::encode(copy.to_json()),
                "envelope": hex::encode(envelope),
            })
        })
        .collect();
    // Each order case: the places as a page found them, and their order.
    let found: Vec<Vec<Place>> = vec![
        vec![
            Place::Reply(0),
            Place::Copy {
                after_replies: 0,
                seq: 0,
            },
        ],
        vec![
            Place::Reply(1),
            Place::Copy {
                after_replies: 2,
                seq: 3,
            },
            Place::Reply(0),
            Place::Copy {
                after_replies: 1,
                seq: 1,
            },
            Place::Copy {
                after_replies: 0,
                seq: 0,
            },
            Place::Copy {
                after_replies: 1,
                seq: 2,
            },
        ],
        // Two replies came before the reporter checked again: both precede
        // the follow-up; a copy claiming more replies than were found sorts last.
        vec![
            Place::Copy {
                after_replies: 5,
                seq: 2,
            },
            Place::Copy {
                after_replies: 2,
                seq: 1,
            },
            Place::Reply(1),
            Place::Reply(0),
            Place::Copy {
                after_replies: 0,
                seq: 0,
            },
        ],
    ];
    let place = |p: &Place| match *p {
        Place::Reply(i) => json!({"reply": i}),
        Place::Copy { after_replies, seq } => {
            json!({"copy": {"after_replies": after_replies, "seq": seq}})
        }
    };
    let orders: Vec<Value> = found
        .into_iter()
        .map(|f| {
            let mut sorted = f.clone();
            order(&mut sorted, |p| *p);
            json!({"found": f.iter().map(place).collect::<Vec<_>>(), "ordered": sorted.iter().map(place).collect::<Vec<_>>()})
        })
        .collect();
    json!({
        "description": "Quietline own-copy v1 vectors (crypto/FORMAT.md#own-copies): the copy box of each reply-code-v1.json case; copies sealed to the first case's reply key of each suite with a fixed ephemeral input (eph_ikm: 32 octets for X25519, the 64-octet eseed for X-Wing); conversation orders.",
        "copy_boxes": boxes,
        "sealed": sealed,
        "orders": orders,
    })
}
