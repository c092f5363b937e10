//! The reporter's payloads the tests and the bench seal, in one copy: a
//! report with every field filled ([`report`], with [`ReportFields`] for
//! what a test varies) and a follow-up ([`follow_up`]). It does not seal
//! them (`quietline_crypto::seal`) and does not check them.
//! (`casework/src/desk/testing.rs` keeps its own: it is part of the casework
//! crate's `testing` feature, which cannot depend on this dev-only kit.)

use quietline_crypto::payload::{
    Common, FollowUp, Known, Payload, Person, ReplyMaterial, Report, ReportBody, Vehicle, When,
};
use quietline_crypto::reply_code::ReplySecrets;

/// What a test varies in a report; [`Default`] gives the usual one (a
/// drugs report in English, sent 2026-11-27, about 2026-11-20, naming
/// "Tall Dave" and a silver Ford Focus "AB12 CDE").
#[derive(Debug, Clone)]
pub struct ReportFields {
    /// `common.sent_at` (the reporter's clock).
    pub sent_at: String,
    /// `common.lang`.
    pub lang: String,
    /// `report.category`.
    pub category: String,
    /// `report.details`.
    pub details: String,
    /// `report.when.date`.
    pub date: String,
    /// The one person's name.
    pub person: String,
    /// The one vehicle's registration.
    pub registration: String,
    /// The one vehicle's description.
    pub vehicle_description: String,
}

impl Default for ReportFields {
    fn default() -> Self {
        ReportFields {
            sent_at: "2026-11-27T19:45:00Z".into(),
            lang: "en".into(),
            category: "drugs".into(),
            details: String::new(),
            date: "2026-11-20".into(),
            person: "Tall Dave".into(),
            registration: "AB12 CDE".into(),
            vehicle_description: "dent in the rear door".into(),
        }
    }
}

/// A report with every field filled from `fields`, answerable with `secrets`.
pub fn report(secrets: &ReplySecrets, fields: ReportFields) -> Payload {
    Payload::Report(Report {
        common: Common {
            v: 1,
            sent_at: fields.sent_at,
            lang: fields.lang,
        },
        report: ReportBody {
            category: fields.category,
            details: fields.details,
            location: Known {
                known: true,
                description: "Behind the Co-op on Mill Lane".into(),
            },
            when: When {
                known: true,
                date: Some(fields.date),
                time: Some("22:30".into()),
                ongoing: true,
                ongoing_unknown: false,
                description: "most Friday nights".into(),
            },
            people: vec![Person {
                name: fields.person,
                description: "about 30, red cap".into(),
            }],
            vehicles: vec![Vehicle {
                registration: fields.registration,
                make_model: "Ford Focus".into(),
                colour: "silver".into(),
                description: fields.vehicle_description,
            }],
            how_known: "saw".into(),
            how_known_details: "from my window".into(),
        },
        attachments: vec![],
        reply: ReplyMaterial::from_secrets(secrets),
        transfer: None,
    })
}

/// A follow-up in English whose reporter's clock reads `sent_at`.
pub fn follow_up(secrets: &ReplySecrets, sent_at: &str, message: &str) -> Payload {
    Payload::FollowUp(FollowUp {
        common: Common {
            v: 1,
            sent_at: sent_at.into(),
            lang: "en".into(),
        },
        message: message.into(),
        attachments: vec![],
        reply: ReplyMaterial::from_secrets(secrets),
        transfer: None,
    })
}
