//! Payload schemas v1: the JSON inside an envelope (FORMAT.md#payloads).
//!
//! Three shapes, told apart by `"type"`: a `report` and a `follow-up` (kind 1,
//! to a force) and a `reply` (kind 2, to a reporter). Readers ignore unknown
//! fields so later minor additions do not break them; `"v"` changes only when
//! a field's meaning changes. This module validates structure, not truth.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::keys::{PublicKey, Suite};
use crate::reply_code::{ReplySecrets, SlotKey};

/// Current payload schema version.
pub const PAYLOAD_VERSION: u32 = 1;

/// Payload errors.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    /// Not valid JSON of a known shape.
    #[error("the payload is not a valid v1 payload: {0}")]
    Json(String),
    /// A newer schema.
    #[error("payload schema version {0} is newer than this software understands (1)")]
    UnknownVersion(u32),
    /// Reply material that does not decode.
    #[error("the reply material in the payload is malformed: {0}")]
    ReplyMaterial(&'static str),
    /// An attachment entry that does not decode (the member named).
    #[error("an attachment entry in the payload is malformed: {0}")]
    Attachment(&'static str),
}

/// Any v1 payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
// A payload is parsed once per opened envelope and then read; boxing the
// report variant would save nothing worth an indirection in every match.
#[allow(clippy::large_enum_variant)]
pub enum Payload {
    /// A first report to a force.
    Report(Report),
    /// A reporter's later message in the same thread.
    FollowUp(FollowUp),
    /// A force's reply to a reporter.
    Reply(Reply),
}

/// Fields every payload carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Common {
    /// Schema version, 1.
    pub v: u32,
    /// The sender's own clock at sending, RFC 3339 (e.g. `2026-11-27T19:45:00Z`).
    /// Only the recipient sees it; the server never does.
    pub sent_at: String,
    /// BCP 47 language tag of the text, e.g. `en` or `cy`.
    pub lang: String,
}

/// Reply material: lets the force answer without knowing who asked
/// (FORMAT.md#reply-material). Binary fields are base64url without padding,
/// the thread id lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyMaterial {
    /// The reporter's reply public key.
    pub public_key: String,
    /// 16-byte thread id, hex.
    pub thread_id: String,
    /// 32-byte slot key, base64url.
    pub slot_key: String,
    /// The reply key's suite, `x25519` (the default, and then omitted) or
    /// `xwing` (FORMAT.md#reply-material).
    #[serde(default = "x25519_name", skip_serializing_if = "is_x25519_name")]
    pub suite: String,
}

fn x25519_name() -> String {
    Suite::X25519.name().to_string()
}

fn is_x25519_name(s: &str) -> bool {
    s == Suite::X25519.name()
}

impl ReplyMaterial {
    /// Encode from derived secrets.
    pub fn from_secrets(s: &ReplySecrets) -> Self {
        ReplyMaterial {
            public_key: s.reply_pk.to_base64url(),
            thread_id: hex::encode(s.thread_id),
            slot_key: URL_SAFE_NO_PAD.encode(s.slot_key.as_bytes()),
            suite: s.reply_pk.suite().name().to_string(),
        }
    }
    /// Decode: the reply key, thread id and slot key.
    pub fn decode(&self) -> Result<(PublicKey, [u8; 16], SlotKey), PayloadError> {
        let suite = Suite::from_name(&self.suite).ok_or(PayloadError::ReplyMaterial("suite"))?;
        let pk = PublicKey::from_base64url(&self.public_key)
            .ok()
            // The key's length must match the suite the material names.
            .filter(|pk| pk.suite() == suite)
            .ok_or(PayloadError::ReplyMaterial("public_key"))?;
        let mut thread = [0u8; 16];
        hex::decode_to_slice(&self.thread_id, &mut thread)
            .map_err(|_| PayloadError::ReplyMaterial("thread_id"))?;
        let slot: [u8; 32] = URL_SAFE_NO_PAD
            .decode(&self.slot_key)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or(PayloadError::ReplyMaterial("slot_key"))?;
        Ok((pk, thread, SlotKey::from_bytes(slot)))
    }
}

/// A place or a time that the reporter may not know.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Known {
    /// False when the reporter chose "I do not know".
    pub known: bool,
    /// Free-text description (address, landmark, "every Friday night").
    #[serde(default)]
    pub description: String,
}

/// When it happened.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct When {
    /// False when the reporter chose "I do not know".
    pub known: bool,
    /// `YYYY-MM-DD`, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// `HH:MM`, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// Whether it is still happening ("yes"; `false` for "no" and for "I do
    /// not know", which [`When::ongoing_unknown`] tells apart).
    #[serde(default)]
    pub ongoing: bool,
    /// The reporter answered "I do not know" to "Is it still happening?"
    /// (written only when true, so older readers see `ongoing: false` as
    /// before).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ongoing_unknown: bool,
    /// Free text ("most weekends since March").
    #[serde(default)]
    pub description: String,
}

/// A person involved.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Person {
    /// Name or nickname, if known.
    #[serde(default)]
    pub name: String,
    /// Description: appearance, age, where they can be found.
    #[serde(default)]
    pub description: String,
}

/// A vehicle involved.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Vehicle {
    /// Registration mark, if known.
    #[serde(default)]
    pub registration: String,
    /// Make and model.
    #[serde(default)]
    pub make_model: String,
    /// Colour.
    #[serde(default)]
    pub colour: String,
    /// Anything else.
    #[serde(default)]
    pub description: String,
}

/// The structured report (FORMAT.md#report-payload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportBody {
    /// One of [`CATEGORIES`]; readers show unknown values as given.
    pub category: String,
    /// What happened, in the reporter's words.
    pub details: String,
    /// Where.
    #[serde(rename = "where")]
    pub location: Known,
    /// When.
    pub when: When,
    /// People involved (may be empty).
    #[serde(default)]
    pub people: Vec<Person>,
    /// Vehicles involved (may be empty).
    #[serde(default)]
    pub vehicles: Vec<Vehicle>,
    /// One of [`HOW_KNOWN`].
    pub how_known: String,
    /// More on how they know, optional.
    #[serde(default)]
    pub how_known_details: String,
}

/// Report categories of v1, in the order the page offers them. Readers show
/// values they do not know as given, so adding one breaks no reader.
pub const CATEGORIES: [&str; 14] = [
    "drugs",
    "violence",
    "sexual-offences",
    "domestic-abuse",
    "hate-crime",
    "weapons",
    "exploitation",
    "fraud",
    "theft",
    "anti-social-behaviour",
    "terrorism",
    "corruption",
    "driving",
    "other",
];

/// How the reporter knows, v1 values.
pub const HOW_KNOWN: [&str; 6] = [
    "saw",
    "heard",
    "told",
    "involved",
    "other",
    "prefer-not-to-say",
];

/// One attachment of a report or follow-up (FORMAT.md#attachment-entry): where
/// its sealed blob is, the key that opens it, its sizes and hashes, and what
/// metadata the reporter's page found and removed. Only `id` is required by
/// the JSON shape; a reader checks the rest with [`AttachmentRef::decode`], so
/// a malformed entry flags that attachment and leaves the report readable.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AttachmentRef {
    /// The blob id the server gave the upload: 32 lowercase hex digits.
    pub id: String,
    /// The attachment's stream key, base64url (32 octets). A secret.
    #[serde(default)]
    pub key: String,
    /// The real size of what was sent, in octets.
    #[serde(default)]
    pub size: u64,
    /// The padded size (a bucket, FORMAT.md#attachment-padding).
    #[serde(default)]
    pub padded_size: u64,
    /// The media type of what was sent, e.g. `image/jpeg`.
    #[serde(default)]
    pub media_type: String,
    /// SHA-256 of the file as the reporter chose it, hex.
    #[serde(default)]
    pub sha256_original: String,
    /// SHA-256 of what was sent (the file after metadata removal), hex.
    #[serde(default)]
    pub sha256_sent: String,
    /// Kinds of metadata the page found in the file ([`METADATA_KINDS`]).
    #[serde(default)]
    pub metadata_found: Vec<String>,
    /// Kinds of metadata the page removed before sealing.
    #[serde(default)]
    pub metadata_removed: Vec<String>,
}

impl std::fmt::Debug for AttachmentRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttachmentRef")
            .field("id", &self.id)
            .field("key", &"<redacted>")
            .field("size", &self.size)
            .field("padded_size", &self.padded_size)
            .field("media_type", &self.media_type)
            .field("sha256_original", &self.sha256_original)
            .field("sha256_sent", &self.sha256_sent)
            .field("metadata_found", &self.metadata_found)
            .field("metadata_removed", &self.metadata_removed)
            .finish()
    }
}

/// Kinds of metadata a page names in `metadata_found` and
/// `metadata_removed`. Readers show other values as given.
pub const METADATA_KINDS: [&str; 10] = [
    "location",
    "device",
    "time",
    "software",
    "author",
    "comment",
    "thumbnail",
    "xmp",
    "iptc",
    "text",
];

/// Most attachments a report or follow-up lists (FORMAT.md#attachment-entry).
pub const MAX_ATTACHMENTS: usize = 10;

/// A checked attachment entry, with its key decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The blob id's 16 octets.
    pub blob_id: [u8; 16],
    /// The blob id as the server names it (32 hex digits).
    pub blob_id_hex: String,
    /// The stream key.
    pub key: crate::stream::StreamKey,
    /// Real size.
    pub size: u64,
    /// Padded size.
    pub padded_size: u64,
    /// Media type, lower case.
    pub media_type: String,
    /// SHA-256 of the original file.
    pub sha256_original: [u8; 32],
    /// SHA-256 of what was sent.
    pub sha256_sent: [u8; 32],
}

impl AttachmentRef {
    /// Check the entry and decode its key and hashes (FORMAT.md#attachment-entry);
    /// the error names the member that is wrong, never its value.
    pub fn decode(&self) -> Result<Attachment, PayloadError> {
        let blob_id: [u8; 16] = lower_hex(&self.id).ok_or(PayloadError::Attachment("id"))?;
        let key: [u8; 32] = URL_SAFE_NO_PAD
            .decode(&self.key)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or(PayloadError::Attachment("key"))?;
        if !crate::stream::is_bucket(self.padded_size) || self.size > self.padded_size {
            return Err(PayloadError::Attachment("padded_size"));
        }
        if !is_media_type(&self.media_type) {
            return Err(PayloadError::Attachment("media_type"));
        }
        let sha256_original =
            lower_hex(&self.sha256_original).ok_or(PayloadError::Attachment("sha256_original"))?;
        let sha256_sent =
            lower_hex(&self.sha256_sent).ok_or(PayloadError::Attachment("sha256_sent"))?;
        Ok(Attachment {
            blob_id,
            blob_id_hex: self.id.clone(),
            key: crate::stream::StreamKey::from_bytes(key),
            size: self.size,
            padded_size: self.padded_size,
            media_type: self.media_type.clone(),
            sha256_original,
            sha256_sent,
        })
    }
}

/// `N` octets from exactly `2N` lowercase hex digits.
fn lower_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != 2 * N
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

/// `type/subtype` of RFC 6838 restricted-name characters, lower case, no
/// parameters, at most 127 characters.
fn is_media_type(s: &str) -> bool {
    let name = |p: &str| {
        !p.is_empty()
            && p.len() <= 63
            && p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$&-^_.+".contains(&b))
    };
    matches!(s.split_once('/'), Some((t, sub)) if name(t) && name(sub))
}

/// A first report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Common fields.
    #[serde(flatten)]
    pub common: Common,
    /// The structured report.
    pub report: ReportBody,
    /// Attachments (FORMAT.md#attachment-entry), at most [`MAX_ATTACHMENTS`].
    #[serde(default)]
    pub attachments: Vec<AttachmentRef>,
    /// How to reply.
    pub reply: ReplyMaterial,
    /// Set only when a force passed the report on to another force
    /// (FORMAT.md#transfer-note); a reporter's page never writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<TransferNote>,
}

/// A follow-up in an existing thread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowUp {
    /// Common fields.
    #[serde(flatten)]
    pub common: Common,
    /// The message.
    pub message: String,
    /// Attachments, as in a report.
    #[serde(default)]
    pub attachments: Vec<AttachmentRef>,
    /// The same reply material as the thread's report.
    pub reply: ReplyMaterial,
    /// Set only when a force passed the follow-up on to the force it had
    /// transferred the case to (FORMAT.md#transfer-note).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<TransferNote>,
}

/// A force's reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// Common fields.
    #[serde(flatten)]
    pub common: Common,
    /// Display name of the force that replies.
    pub from: String,
    /// The replying force's id (FORMAT.md#reply-payload), so a page can tell
    /// which force of a transferred case answered; absent in replies of
    /// consoles before transfers (readers then go by `from`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force: Option<String>,
    /// The message.
    pub message: String,
}

/// Current version of the transfer note (FORMAT.md#transfer-note).
pub const TRANSFER_VERSION: u32 = 1;

/// The note a force adds when it passes a report or a follow-up on to
/// another force on the platform (FORMAT.md#transfer-note). It is the
/// sending force's word, inside the envelope sealed to the receiving force:
/// the server never sees it. The reply material beside it is the reporter's
/// own, unchanged, so the receiving force answers on the same thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferNote {
    /// The note's own version, [`TRANSFER_VERSION`]; a reader that does not
    /// know it shows the message without the note.
    pub v: u32,
    /// The sending force's id.
    pub from_force: String,
    /// The sending force's display name.
    pub from_name: String,
    /// The sending force's case id (its first report's id on the server):
    /// the reference both forces quote, and what links the follow-ups it
    /// passes on later.
    pub case: String,
    /// The thread id of the case, lowercase hex (the reply material's).
    pub thread_id: String,
    /// The grading at transfer, e.g. `2 B P`, if the case was graded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grading: Option<String>,
    /// Why the case was passed on, in the supervisor's words.
    pub reason: String,
    /// The UTC day of the transfer, `YYYY-MM-DD` (no finer time).
    pub day: String,
    /// The account of the supervisor who transferred it.
    pub by: String,
    /// How many reply slots the sending force used in the thread: the
    /// receiving force starts its replies there (FORMAT.md#reply-code).
    #[serde(default)]
    pub next_slot: u32,
}

impl Payload {
    /// Parse and check the version.
    pub fn from_json(bytes: &[u8]) -> Result<Self, PayloadError> {
        #[derive(Deserialize)]
        struct V {
            v: u32,
        }
        let v: V = serde_json::from_slice(bytes).map_err(|e| PayloadError::Json(e.to_string()))?;
        if v.v != PAYLOAD_VERSION {
            return Err(PayloadError::UnknownVersion(v.v));
        }
        serde_json::from_slice(bytes).map_err(|e| PayloadError::Json(e.to_string()))
    }
    /// Serialize to compact JSON.
    pub fn to_json(&self) -> Vec<u8> {
        // Serializing these plain structs cannot fail.
        serde_json::to_vec(self).expect("payload serializes")
    }
    /// The transfer note of a passed-on report or follow-up, if any.
    pub fn transfer(&self) -> Option<&TransferNote> {
        match self {
            Payload::Report(r) => r.transfer.as_ref(),
            Payload::FollowUp(f) => f.transfer.as_ref(),
            Payload::Reply(_) => None,
        }
    }
    /// The common fields.
    pub fn common(&self) -> &Common {
        match self {
            Payload::Report(r) => &r.common,
            Payload::FollowUp(f) => &f.common,
            Payload::Reply(r) => &r.common,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> AttachmentRef {
        AttachmentRef {
            id: "00112233445566778899aabbccddeeff".into(),
            key: URL_SAFE_NO_PAD.encode([7u8; 32]),
            size: 1000,
            padded_size: 65536,
            media_type: "image/jpeg".into(),
            sha256_original: "ab".repeat(32),
            sha256_sent: "cd".repeat(32),
            metadata_found: vec!["location".into()],
            metadata_removed: vec!["location".into()],
        }
    }

    #[test]
    fn a_good_entry_decodes() {
        let a = entry().decode().unwrap();
        assert_eq!(a.blob_id[0], 0x00);
        assert_eq!(a.blob_id[15], 0xff);
        assert_eq!(a.key.as_bytes(), &[7u8; 32]);
        assert_eq!(a.sha256_sent, [0xcd; 32]);
    }

    #[test]
    fn each_bad_member_is_named() {
        type Change = fn(&mut AttachmentRef);
        let cases: [(&str, Change); 9] = [
            ("id", |e| e.id = "00112233445566778899AABBCCDDEEFF".into()),
            ("id", |e| {
                e.id.pop();
            }),
            ("key", |e| e.key = URL_SAFE_NO_PAD.encode([7u8; 31])),
            ("padded_size", |e| e.padded_size = 65535),
            ("padded_size", |e| e.size = 65537),
            ("media_type", |e| e.media_type = "image".into()),
            ("media_type", |e| e.media_type = "image/jpeg; q=1".into()),
            ("sha256_original", |e| e.sha256_original = "ab".repeat(31)),
            ("sha256_sent", |e| e.sha256_sent = "zz".repeat(32)),
        ];
        for (member, change) in cases {
            let mut e = entry();
            change(&mut e);
            match e.decode() {
                Err(PayloadError::Attachment(m)) => assert_eq!(m, member),
                other => panic!("{member}: {other:?}"),
            }
        }
    }

    #[test]
    fn an_entry_with_only_an_id_parses_but_does_not_decode() {
        let json = br#"{"type":"follow-up","v":1,"sent_at":"x","lang":"en","message":"m","attachments":[{"id":"00112233445566778899aabbccddeeff"}],"reply":{"public_key":"p","thread_id":"t","slot_key":"s"}}"#;
        let Payload::FollowUp(f) = Payload::from_json(json).unwrap() else {
            panic!()
        };
        assert!(matches!(
            f.attachments[0].decode(),
            Err(PayloadError::Attachment("key"))
        ));
    }

    #[test]
    fn debug_does_not_show_the_key() {
        let e = entry();
        let shown = format!("{e:?} {:?}", e.decode().unwrap());
        assert!(!shown.contains(&e.key), "{shown}");
        assert!(shown.contains("<redacted>"));
    }
}
