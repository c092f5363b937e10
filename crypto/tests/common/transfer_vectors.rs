//! The transfer vectors of FORMAT.md#test-vectors (`transfer-v1.json`,
//! FORMAT.md#transfer-note), built from fixed inputs: the sample report and
//! FORMAT.md's follow-up as one force passes them on to another (with the
//! transfer note), and a reply that names its force, each sealed with a
//! fixed ephemeral key.

use quietline_crypto::keys::derive_keypair;
use quietline_crypto::payload::{
    Common, FollowUp, Payload, Reply, ReplyMaterial, TRANSFER_VERSION, TransferNote,
};
use quietline_crypto::reply_code::ReplyCode;
use quietline_crypto::seal::{seal_reply, seal_report};
use serde_json::{Value, json};

use super::fixed_rng::FixedRng;
use super::vectors::{pattern, reply_code_entropies, sample_report_for};

/// The receiving force of the vectors.
pub const TO_FORCE: &str = "west";

/// The note every passed-on message of the vectors carries.
pub fn note() -> TransferNote {
    let secrets = ReplyCode::from_entropy(reply_code_entropies()[0]).derive();
    TransferNote {
        v: TRANSFER_VERSION,
        from_force: "demo".into(),
        from_name: "Demo Constabulary".into(),
        case: hex::encode(pattern(60, 16)),
        thread_id: hex::encode(secrets.thread_id),
        grading: Some("2 B P".into()),
        reason: "It happened in the western area".into(),
        day: "2026-12-07".into(),
        by: "sam".into(),
        next_slot: 1,
    }
}

fn payloads() -> Vec<(&'static str, Payload)> {
    let secrets = ReplyCode::from_entropy(reply_code_entropies()[0]).derive();
    let mut report = Payload::from_json(&sample_report_for(secrets.clone())).unwrap();
    if let Payload::Report(r) = &mut report {
        r.transfer = Some(note());
    }
    let follow_up = Payload::FollowUp(FollowUp {
        common: Common {
            v: 1,
            sent_at: "2026-11-28T18:30:00Z".into(),
            lang: "en".into(),
        },
        message: "They usually arrive between 10 and 11 at night.".into(),
        attachments: vec![],
        reply: ReplyMaterial::from_secrets(&secrets),
        transfer: Some(note()),
    });
    let reply = Payload::Reply(Reply {
        common: Common {
            v: 1,
            sent_at: "2026-12-07T09:00:00Z".into(),
            lang: "en".into(),
        },
        from: "Western Demo Police".into(),
        force: Some(TO_FORCE.into()),
        message: "We have your report. Can you tell us which night is busiest?".into(),
    });
    vec![
        ("the sample report passed on with a transfer note", report),
        (
            "FORMAT.md's follow-up passed on with the same note",
            follow_up,
        ),
        (
            "the receiving force's reply in slot 1, naming its force",
            reply,
        ),
    ]
}

/// The contents of `transfer-v1.json`.
pub fn transfer_vectors() -> Value {
    let (force_sk, force_pk) = derive_keypair(&pattern(7, 32));
    let secrets = ReplyCode::from_entropy(reply_code_entropies()[0]).derive();
    let cases: Vec<Value> = payloads()
        .into_iter()
        .enumerate()
        .map(|(i, (name, p))| {
            let eph = pattern(51 + i as u8, 32);
            let json = p.to_json();
            let (kind, sk, envelope) = match &p {
                Payload::Reply(_) => (
                    2,
                    hex::encode(secrets.reply_sk.to_bytes().as_ref()),
                    seal_reply(
                        &mut FixedRng::new(&eph),
                        secrets.slot_key.address(1),
                        &secrets.reply_pk,
                        &json,
                    )
                    .unwrap(),
                ),
                _ => (
                    1,
                    hex::encode(force_sk.to_bytes().as_ref()),
                    seal_report(&mut FixedRng::new(&eph), TO_FORCE, &force_pk, &json).unwrap(),
                ),
            };
            json!({
                "name": name,
                "kind": kind,
                "recipient_sk": sk,
                "eph_ikm": hex::encode(&eph),
                "payload": hex::encode(&json),
                "envelope": hex::encode(envelope),
            })
        })
        .collect();
    json!({
        "description": "Quietline transfer vectors (crypto/FORMAT.md#transfer-note): a report and a follow-up one force passed on to another (kind 1 to the receiving force `west`, whose key pair is DeriveKeyPair(pattern 7)), with the note `transfer`, and the receiving force's reply naming its `force` (kind 2 to the first reply-code case's reply key, slot 1). Opening `envelope` with `recipient_sk` and `kind` MUST give `payload`; sealing `payload` with `eph_ikm` SHOULD give `envelope`; the payloads parse, `transfer` and `force` as the note below.",
        "note": serde_json::to_value(note()).unwrap(),
        "cases": cases,
    })
}
