//! Attachments in the sanitised intelligence report from the command line
//! (issue 19): none unless chosen with `intel report --attachment N`; one
//! that may identify the source is refused without `--checked N`; `intel
//! export -o FILE` writes the chosen file (only it) beside the signed
//! report under the name the report lists, with its SHA-256 signed.

use quietline_crypto::payload::Payload;
use quietline_testkit::blobs;
use sha2::Digest;

use crate::support::{Console, Reporter};

#[test]
fn a_chosen_attachment_is_written_beside_the_exported_report() {
    let server = crate::support::start_server();
    server.add_force("north", "North Constabulary");
    let mut c = Console::new();
    let pk = c.init("north");
    server.add_key("north", &pk);
    let token = server.token("north", "h");
    c.login(&server.base, &token);
    let http = quietline_testkit::server::client();
    let base = server.base.clone();
    let photo = blobs::jpeg_with_gps(3000);
    let sealed_photo = blobs::seal(&photo, "image/jpeg");
    let pdf = b"%PDF-1.4 not really a pdf".to_vec();
    let sealed_pdf = blobs::seal(&pdf, "application/pdf");
    let (photo_id, pdf_id) = server.block_on(async {
        (
            blobs::upload(&http, &base, "north", &sealed_photo.blob).await,
            blobs::upload(&http, &base, "north", &sealed_pdf.blob).await,
        )
    });
    let reporter = Reporter::new();
    let mut payload = reporter.report_payload("a report with a photo and a PDF");
    if let Payload::Report(r) = &mut payload {
        r.attachments = vec![
            serde_json::from_value(sealed_photo.entry(&photo_id, &["location"], &["location"]))
                .unwrap(),
            serde_json::from_value(sealed_pdf.entry(&pdf_id, &[], &[])).unwrap(),
        ];
    }
    let id = server.submit(reporter.seal("north", &pk, &payload));
    let short = &id[..12];
    c.ok(&["pull"]);
    c.ok(&[
        "intel",
        "grade",
        short,
        "--source",
        "2",
        "--assessment",
        "C",
        "--handling",
        "P",
    ]);
    let words = [
        "intel",
        "report",
        short,
        "--title",
        "Supply of drugs",
        "--text",
        "A male is said to supply drugs in the area most nights.",
    ];
    let with = |extra: &[&'static str]| -> Vec<&str> {
        let mut v = words.to_vec();
        v.extend_from_slice(extra);
        v
    };
    // The PDF may identify the source: refused without the confirmation.
    let e = c.fails(&with(&["--attachment", "2"]));
    assert!(e.contains("Attachment 2 may still carry details"), "{e}");
    c.ok(&with(&["--attachment", "2", "--checked", "2"]));
    c.ok(&["export", "key", "create"]);

    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    c.ok(&["intel", "export", short, "1", "-o", json.to_str().unwrap()]);
    let text = std::fs::read_to_string(&json).unwrap();
    let pdf_name = format!("quietline-case-{short}-attachment-2.pdf");
    let photo_name = format!("quietline-case-{short}-attachment-1.jpg");
    assert!(
        text.contains(&format!("\"file\": \"{pdf_name}\"")),
        "{text}"
    );
    assert!(text.contains(&hex::encode(sha2::Sha256::digest(&pdf))));
    assert!(!text.contains(&photo_name), "only the chosen one");
    assert_eq!(std::fs::read(dir.path().join(&pdf_name)).unwrap(), pdf);
    assert!(!dir.path().join(&photo_name).exists());
    c.ok(&["export", "verify", json.to_str().unwrap()]);
}
