use crate::DETAILS_LEN;
use bytes::Bytes;
use quietline_crypto::keys::PublicKey;
use quietline_crypto::payload::Payload;
use quietline_crypto::reply_code::ReplyCode;
use quietline_testkit::payloads::{self, ReportFields};
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
    payloads::report(
        &secrets,
        ReportFields {
            details,
            ..ReportFields::default()
        },
    )
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
