use crate::DETAILS_LEN;
use bytes::Bytes;
use quietline_crypto::keys::PublicKey;
use quietline_crypto::payload::{
    Common, Known, Payload, Person, ReplyMaterial, Report, ReportBody, Vehicle, When,
};
use quietline_crypto::reply_code::ReplyCode;
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;

// ------------------------------------------------------------------ envelopes

pub(crate) fn rng() -> UnwrapErr<SysRng> {
    UnwrapErr(SysRng)
}

pub(crate) fn report_payload(details_len: usize) -> Payload {
    let secrets = ReplyCode::generate(&mut rng()).derive();
    let mut details = String::with_capacity(details_len);
    while details.len() < details_len {
        details.push_str("Cars stop outside number 14 most nights and leave within minutes. ");
    }
    details.truncate(details_len);
    Payload::Report(Report {
        common: Common {
            v: 1,
            sent_at: "2026-11-27T19:45:00Z".into(),
            lang: "en".into(),
        },
        report: ReportBody {
            category: "drugs".into(),
            details,
            location: Known {
                known: true,
                description: "Behind the Co-op on Mill Lane".into(),
            },
            when: When {
                known: true,
                date: Some("2026-11-20".into()),
                time: Some("22:30".into()),
                ongoing: true,
                ongoing_unknown: false,
                description: "most Friday nights".into(),
            },
            people: vec![Person {
                name: "Tall Dave".into(),
                description: "about 30, red cap".into(),
            }],
            vehicles: vec![Vehicle {
                registration: "AB12 CDE".into(),
                make_model: "Ford Focus".into(),
                colour: "silver".into(),
                description: "dent in the rear door".into(),
            }],
            how_known: "saw".into(),
            how_known_details: "from my window".into(),
        },
        attachments: vec![],
        reply: ReplyMaterial::from_secrets(&secrets),
        transfer: None,
    })
}

/// `n` distinct sealed 8 KiB-bucket report envelopes for `force`.
pub(crate) fn envelopes(force: &str, pk: &PublicKey, n: usize) -> Vec<Bytes> {
    (0..n)
        .map(|_| {
            let json = report_payload(DETAILS_LEN).to_json();
            Bytes::from(
                quietline_crypto::seal::seal_report(&mut rng(), force, pk, &json).expect("seal"),
            )
        })
        .collect()
}
