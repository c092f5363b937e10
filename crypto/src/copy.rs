//! The reporter's own sealed copy (FORMAT.md#own-copies): the copy box a
//! reply code derives, the `copy` payload that wraps a report or follow-up
//! as sent, sealing it to the code's own reply key, opening it (feature
//! `open`), and the order in which a returning reporter's page shows the
//! conversation — the force's replies and the reporter's own copies.
//!
//! It does no I/O and stores nothing: the page (web/src/copy.js) and the
//! server's copy route use these rules; the server only checks the shape of
//! a copy envelope and can read nothing in it. The force never sees a copy:
//! its box derives from the code under a label the reply material does not
//! carry.

use hkdf::Hkdf;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::envelope::SLOT_ADDRESS_LEN;
use crate::keys::Suite;
use crate::payload::{Common, PAYLOAD_VERSION, Payload, PayloadError};
use crate::reply_code::{ReplyCode, SALT};
use crate::seal::{SealError, seal_reply};

/// HKDF-Expand info of the copy box (8 bytes), under the reply code's PRK
/// (FORMAT.md#own-copies).
pub const INFO_COPY_BOX: &[u8] = b"copy-box";

/// The payload `type` of a copy.
pub const COPY_TYPE: &str = "copy";

/// The copy box of a reply code: `HKDF-Expand(PRK, "copy-box", 32)`, the
/// address every copy of the thread is routed to (FORMAT.md#own-copies,
/// step 1). Independent of the slot key, so neither the server nor the force
/// (which holds the slot key) can link it to the reply slots.
pub fn copy_box(code: &ReplyCode) -> [u8; SLOT_ADDRESS_LEN] {
    let hk = Hkdf::<Sha256>::new(Some(SALT), code.entropy());
    let mut out = [0u8; SLOT_ADDRESS_LEN];
    // 32 bytes is far below HKDF-SHA256's 255 × 32 limit.
    hk.expand(INFO_COPY_BOX, &mut out).expect("HKDF length");
    out
}

/// A reporter's own copy of one message they sent: the `copy` payload
/// (FORMAT.md#copy-payload).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "copy")]
pub struct OwnCopy {
    /// Common fields (the copy's own `sent_at` and `lang`).
    #[serde(flatten)]
    pub common: Common,
    /// The reporter's own count of their messages in the thread, from 0
    /// (the report): one more than the largest `seq` of the copies the page
    /// could open when it wrote this one.
    pub seq: u32,
    /// How many of the force's replies (slots 0 to `after_replies` − 1) the
    /// page had found when the reporter sent this message.
    pub after_replies: u32,
    /// The report or follow-up payload exactly as sealed to the force.
    pub sent: Payload,
}

/// Why a copy payload was refused.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// Not a v1 `copy` payload, or its `sent` is not a report or follow-up.
    #[error("not a v1 copy payload: {0}")]
    Payload(#[from] PayloadError),
    /// The envelope did not open, or is routed elsewhere than the code's box.
    #[cfg(feature = "open")]
    #[error(transparent)]
    Open(#[from] crate::open::OpenError),
    /// The envelope's routing is not this code's copy box (a copy moved by
    /// the server from another box).
    #[error("the copy is routed to another box than this reply code's")]
    Misrouted,
}

impl OwnCopy {
    /// Serialize to compact JSON: `type`, `v`, `sent_at`, `lang`, `seq`,
    /// `after_replies`, `sent`, in that order.
    pub fn to_json(&self) -> Vec<u8> {
        // Plain structs and strings: cannot fail.
        serde_json::to_vec(self).expect("copy serializes")
    }

    /// Parse a copy payload: `v` first (FORMAT.md#payloads), then `type`
    /// must be `copy` and `sent` a `report` or `follow-up`.
    pub fn from_json(bytes: &[u8]) -> Result<Self, PayloadError> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| PayloadError::Json(e.to_string()))?;
        let v = value
            .get("v")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| PayloadError::Json("no version".into()))?;
        if v != u64::from(PAYLOAD_VERSION) {
            return Err(PayloadError::UnknownVersion(
                u32::try_from(v).unwrap_or(u32::MAX),
            ));
        }
        if value.get("type").and_then(serde_json::Value::as_str) != Some(COPY_TYPE) {
            return Err(PayloadError::Json("not a copy".into()));
        }
        let copy: OwnCopy =
            serde_json::from_value(value).map_err(|e| PayloadError::Json(e.to_string()))?;
        if matches!(copy.sent, Payload::Reply(_)) {
            return Err(PayloadError::Json(
                "a copy holds a report or a follow-up".into(),
            ));
        }
        if copy.sent.common().v != PAYLOAD_VERSION {
            return Err(PayloadError::UnknownVersion(copy.sent.common().v));
        }
        Ok(copy)
    }
}

/// Seal a copy to the code's own reply key of `suite` (the suite of the force
/// key the message was sealed to), routed to the code's copy box: a kind-2
/// envelope (FORMAT.md#own-copies, steps 2–3).
pub fn seal_copy(
    rng: &mut impl rand_core::CryptoRng,
    code: &ReplyCode,
    suite: Suite,
    copy: &OwnCopy,
) -> Result<Vec<u8>, SealError> {
    let secrets = code.derive_for(suite);
    let payload = zeroize::Zeroizing::new(copy.to_json());
    seal_reply(rng, copy_box(code), &secrets.reply_pk, &payload)
}

/// Open a copy envelope with the code (FORMAT.md#own-copies, reading):
/// the routing must be the code's copy box, and the envelope opens with the
/// reply key of its own suite.
#[cfg(feature = "open")]
pub fn open_copy(code: &ReplyCode, envelope: &[u8]) -> Result<OwnCopy, CopyError> {
    use crate::envelope::{Kind, Routing, parse};
    let env = parse(envelope).map_err(crate::open::OpenError::from)?;
    match env.routing() {
        Routing::Slot(address) if address == copy_box(code) => {}
        _ => return Err(CopyError::Misrouted),
    }
    let secrets = code.derive_for(env.suite());
    let payload = crate::open::open(&secrets.reply_sk, Kind::Reply, envelope)?;
    Ok(OwnCopy::from_json(&payload)?)
}

/// Where a message sits in a conversation (FORMAT.md#conversation-order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The force's reply in slot `i`.
    Reply(u32),
    /// The reporter's own copy.
    Copy {
        /// Its `after_replies`.
        after_replies: u32,
        /// Its `seq`.
        seq: u32,
    },
}

impl Place {
    /// The sort key: a copy that had seen `a` replies comes after reply
    /// `a − 1` and before reply `a`; copies between the same replies by
    /// `seq`. Nothing here is the server's order.
    pub fn key(self) -> (u32, u8, u32) {
        match self {
            Place::Copy { after_replies, seq } => (after_replies, 0, seq),
            Place::Reply(i) => (i, 1, 0),
        }
    }
}

/// Put a conversation in order (stable: equal places keep the order given).
pub fn order<T>(items: &mut [T], place: impl Fn(&T) -> Place) {
    items.sort_by_key(|t| place(t).key());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::FollowUp;
    use crate::payload::ReplyMaterial;

    fn follow_up(code: &ReplyCode) -> Payload {
        Payload::FollowUp(FollowUp {
            common: Common {
                v: 1,
                sent_at: "2026-11-28T18:30:00Z".into(),
                lang: "en".into(),
            },
            message: "They usually arrive between 10 and 11 at night.".into(),
            attachments: vec![],
            reply: ReplyMaterial::from_secrets(&code.derive()),
            transfer: None,
        })
    }

    #[test]
    fn the_copy_box_is_not_a_reply_slot() {
        let code = ReplyCode::from_entropy([9; 16]);
        let slots = code.derive().slot_key;
        let b = copy_box(&code);
        for i in 0..64 {
            assert_ne!(b, slots.address(i));
        }
        assert_ne!(b, copy_box(&ReplyCode::from_entropy([8; 16])));
        assert_eq!(b, copy_box(&ReplyCode::from_entropy([9; 16])));
    }

    #[test]
    fn json_round_trips_in_member_order_and_refuses_other_shapes() {
        let code = ReplyCode::from_entropy([3; 16]);
        let copy = OwnCopy {
            common: Common {
                v: 1,
                sent_at: "2026-11-28T18:30:00Z".into(),
                lang: "cy".into(),
            },
            seq: 1,
            after_replies: 1,
            sent: follow_up(&code),
        };
        let json = copy.to_json();
        let text = String::from_utf8(json.clone()).unwrap();
        assert!(
            text.starts_with(r#"{"type":"copy","v":1,"sent_at":"2026-11-28T18:30:00Z","lang":"cy","seq":1,"after_replies":1,"sent":{"type":"follow-up","#),
            "{text}"
        );
        assert_eq!(OwnCopy::from_json(&json).unwrap(), copy);
        // A newer version is reported as such, before the type is looked at.
        let newer = text.replacen(r#""v":1"#, r#""v":2"#, 1);
        assert!(matches!(
            OwnCopy::from_json(newer.as_bytes()),
            Err(PayloadError::UnknownVersion(2))
        ));
        // Not a copy.
        let reply = text.replacen(r#""type":"copy""#, r#""type":"reply""#, 1);
        assert!(OwnCopy::from_json(reply.as_bytes()).is_err());
        // A copy of a reply is refused.
        let of_reply = br#"{"type":"copy","v":1,"sent_at":"x","lang":"en","seq":0,"after_replies":0,"sent":{"type":"reply","v":1,"sent_at":"x","lang":"en","from":"F","message":"m"}}"#;
        assert!(OwnCopy::from_json(of_reply).is_err());
        // Missing members, wrong types, not JSON.
        for bad in [
            &br#"{"type":"copy","v":1,"sent_at":"x","lang":"en","seq":0,"sent":{}}"#[..],
            br#"{"type":"copy","v":1,"sent_at":"x","lang":"en","seq":-1,"after_replies":0,"sent":{}}"#,
            b"[]",
            b"not json",
        ] {
            assert!(OwnCopy::from_json(bad).is_err());
        }
    }

    #[test]
    fn order_places_copies_between_the_replies_they_had_seen() {
        use Place::*;
        let mut items = vec![
            Reply(1),
            Copy {
                after_replies: 2,
                seq: 2,
            },
            Reply(0),
            Copy {
                after_replies: 1,
                seq: 1,
            },
            Copy {
                after_replies: 0,
                seq: 0,
            },
        ];
        order(&mut items, |p| *p);
        assert_eq!(
            items,
            vec![
                Copy {
                    after_replies: 0,
                    seq: 0
                },
                Reply(0),
                Copy {
                    after_replies: 1,
                    seq: 1
                },
                Reply(1),
                Copy {
                    after_replies: 2,
                    seq: 2
                },
            ]
        );
    }
}
