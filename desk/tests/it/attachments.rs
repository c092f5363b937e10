//! Attachments on the desk (issue 19), over HTTP against a REAL intake
//! server: a photo sealed and uploaded through the blob API
//! (`quietline_testkit::blobs`), a report listing it, a pull from the desk;
//! the case page lists it with what the reporter's page removed and what is
//! still in the file (English and Welsh words); the image route answers
//! only a signed-in handler, with `no-store` and `nosniff`, the exact bytes,
//! and one audit entry per view; other files are downloads.

use quietline_casework::desk::{AuditQuery, Handler, Role};
use quietline_crypto::payload::{AttachmentRef, Payload};
use quietline_testkit::blobs;

use crate::support::*;
use crate::work::{Reporter, Work, pull};

fn entry(v: serde_json::Value) -> AttachmentRef {
    serde_json::from_value(v).unwrap()
}

/// A desk with one pulled case listing a photo (GPS removed by the page,
/// the model and time left) and a PDF: (work, the case id, the photo).
pub async fn case_with_attachments(b: &mut Browser, w: &Work) -> (String, Vec<u8>) {
    let photo = blobs::jpeg_with_gps(3000);
    let sealed_photo = blobs::seal(&photo, "image/jpeg");
    let pdf = b"%PDF-1.4 not really a pdf".to_vec();
    let sealed_pdf = blobs::seal(&pdf, "application/pdf");
    let base = w.server.base.clone();
    let photo_id = blobs::upload(&w.server.http, &base, FORCE_ID, &sealed_photo.blob).await;
    let pdf_id = blobs::upload(&w.server.http, &base, FORCE_ID, &sealed_pdf.blob).await;
    let reporter = Reporter::new();
    let mut payload = reporter.report("en", "drugs", "photo attached", "AT71 ACH");
    if let Payload::Report(r) = &mut payload {
        r.attachments = vec![
            entry(sealed_photo.entry(&photo_id, &["location", "device", "time"], &["location"])),
            entry(sealed_pdf.entry(&pdf_id, &[], &[])),
        ];
    }
    let id = w.submit(&payload).await;
    pull(b, 1).await;
    (id, photo)
}

pub(crate) async fn attachment_reads(w: &Work, id: &str) -> usize {
    let sue = Handler {
        account: "audit-reader".into(),
        role: Role::Supervisor,
    };
    let page =
        w.td.desk
            .audit_log(
                &sue,
                &AuditQuery {
                    case: Some(id.to_owned()),
                    per_page: 1000,
                    ..AuditQuery::default()
                },
            )
            .await
            .unwrap();
    page.entries
        .iter()
        .filter(|e| e.action == "attachment")
        .count()
}

#[tokio::test]
async fn the_image_route_needs_a_session_is_never_cached_and_is_audited() {
    let w = Work::start().await;
    let (mut ann, _, _) = signed_in(&w.td, "ann", Role::Handler).await;
    let (id, photo) = case_with_attachments(&mut ann, &w).await;

    let page = ann.get(&format!("/cases/{id}")).await;
    assert_eq!(page.status, 200);
    for want in [
        "Attachments",
        &format!("src=\"/cases/{id}/attachments/1\""),
        "Photo (image/jpeg), 3.1 kB",
        "File (application/pdf), 25 bytes",
        &format!("href=\"/cases/{id}/attachments/2/download\""),
        "GPS position (lleoliad GPS)",
        "camera or phone model (model y camera neu&#39;r ffôn), time taken",
        "Still in the file (checked on the desk)",
    ] {
        assert!(
            page.body.contains(want),
            "missing {want:?} in the case page"
        );
    }
    // The page itself fetched no image: viewing it is not yet a read.
    assert_eq!(attachment_reads(&w, &id).await, 0);

    // Without a session: no image.
    let mut stranger = w.td.browser();
    let (status, _, body) = stranger
        .get_bytes(&format!("/cases/{id}/attachments/1"))
        .await;
    assert_ne!(status, 200);
    assert!(!body.windows(photo.len()).any(|w| w == photo));
    assert_eq!(attachment_reads(&w, &id).await, 0);

    // Signed in: the exact bytes, inline, never cached, never sniffed.
    let (status, h, body) = ann.get_bytes(&format!("/cases/{id}/attachments/1")).await;
    assert_eq!(status, 200);
    assert_eq!(body, photo);
    assert_eq!(h["content-type"], "image/jpeg");
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline")
    );
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("img-src 'self'"), "{csp}");
    assert_eq!(attachment_reads(&w, &id).await, 1, "one entry per view");

    // A document is a download, as opaque octets.
    let (status, h, body) = ann.get_bytes(&format!("/cases/{id}/attachments/2")).await;
    assert_eq!(status, 200);
    assert_eq!(body, b"%PDF-1.4 not really a pdf");
    assert_eq!(h["content-type"], "application/octet-stream");
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"quietline-case-")
    );
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(attachment_reads(&w, &id).await, 2);
    // The download route streams it, a download even for the photo.
    let (status, h, body) = ann
        .get_bytes(&format!("/cases/{id}/attachments/1/download"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body, photo);
    assert_eq!(h["content-type"], "application/octet-stream");
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(attachment_reads(&w, &id).await, 3);

    // No such attachment: a page in words, nothing audited as shown.
    let (status, _, _) = ann.get_bytes(&format!("/cases/{id}/attachments/7")).await;
    assert_eq!(status, 400);
    w.stop().await;
}
