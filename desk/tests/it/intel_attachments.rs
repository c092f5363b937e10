//! Attachments in the sanitised intelligence report (issue 19: "the
//! sanitised report never does unless a handler chooses"), over HTTP
//! against a real intake server: the report form lists the case's
//! attachments with the metadata still in each, none ticked; a file that
//! may identify the source is refused without the second confirmation; the
//! chosen one is signed into the export and offered for download under the
//! export's file name (only that one, `no-store`, each download audited);
//! the writing entry counts the attachments.

use quietline_casework::desk::{AuditQuery, Handler, Role};
use quietline_casework::intel::report;
use sha2::Digest;

use crate::attachments::{attachment_reads, case_with_attachments};
use crate::support::*;
use crate::work::Work;

fn custodian() -> Handler {
    Handler {
        account: "cas".into(),
        role: Role::Custodian,
    }
}

/// A graded case with a photo (details left in it) and a PDF, and the
/// force's export key: (work, the handler's browser, the case id, the photo).
async fn graded_case_with_attachments() -> (Work, Browser, String, Vec<u8>) {
    let w = Work::start().await;
    let (mut ann, _, _) = signed_in(&w.td, "ann", Role::Handler).await;
    let (id, photo) = case_with_attachments(&mut ann, &w).await;
    w.td.desk.create_export_key(&custodian()).await.unwrap();
    crate::support::graded(&w.td.desk, &custodian(), &id).await;
    (w, ann, id, photo)
}

#[tokio::test]
async fn a_handler_includes_a_checked_attachment_and_only_it_can_be_downloaded_from_the_report() {
    let (w, mut ann, id, photo) = graded_case_with_attachments().await;
    let form = format!("/cases/{id}/intel-report");
    let page = ann.get(&form).await;
    assert_eq!(page.status, 200);
    for want in [
        "Attachments to include",
        "id=\"attachment-1\" name=\"attachment\" type=\"checkbox\" value=\"1\"",
        "id=\"attachment-2\" name=\"attachment\" type=\"checkbox\" value=\"2\"",
        "1. Photo (image/jpeg), 3.1 kB",
        "GPS position (lleoliad GPS)",
        "I have checked this file does not identify the source",
    ] {
        assert!(page.body.contains(want), "missing {want:?}: {}", page.body);
    }
    assert!(
        !page
            .body
            .contains("value=\"1\" aria-describedby=\"attachment-1-hint\" checked"),
        "none ticked by default"
    );
    let words = [
        ("title", "Supply of drugs"),
        ("text", "A male is said to supply drugs from a car."),
    ];

    // The photo still carries details: refused without the confirmation,
    // by the library, and nothing is written.
    let mut fields = words.to_vec();
    fields.push(("attachment", "1"));
    let res = ann.submit(&form, &form, &fields).await;
    assert_eq!(res.status, 400, "{}", res.body);
    assert!(
        res.body.contains("Attachment 1 may still carry details"),
        "{}",
        res.body
    );
    let mut draft = report::ReportDraft {
        title: "Supply of drugs".into(),
        text: "A male is said to supply drugs from a car.".into(),
        attachments: vec![1],
        ..Default::default()
    };
    assert!(
        w.td.desk
            .write_intel_report(&custodian(), &id, &draft)
            .await
            .is_err(),
        "the library refuses it too, not only the form"
    );
    draft.checked = vec![2];
    assert!(
        w.td.desk
            .write_intel_report(&custodian(), &id, &draft)
            .await
            .is_err(),
        "another file's confirmation does not count"
    );

    // With the confirmation: written, with the photo only.
    fields.push(("checked", "1"));
    let res = ann.submit(&form, &form, &fields).await;
    res.assert_see_other(&format!("/cases/{id}/intel-report?done=written"));
    let file_name = quietline_casework::desk::export::attachment_file_name(&id, 1, "image/jpeg");
    let page = ann.get(&form).await;
    let link = format!("/cases/{id}/intel-report/1/attachments/1");
    assert!(
        page.body.contains(&format!("href=\"{link}\"")),
        "{}",
        page.body
    );
    assert!(page.body.contains(&file_name));
    assert!(
        !page
            .body
            .contains(&format!("/cases/{id}/intel-report/1/attachments/2"))
    );

    // The writing entry counts the attachments, naming none.
    let sue = Handler {
        account: "audit-reader".into(),
        role: Role::Supervisor,
    };
    let log =
        w.td.desk
            .audit_log(
                &sue,
                &AuditQuery {
                    case: Some(id.clone()),
                    per_page: 1000,
                    ..AuditQuery::default()
                },
            )
            .await
            .unwrap();
    let written: Vec<_> = log
        .entries
        .iter()
        .filter(|e| e.action == "intel-report")
        .map(|e| e.detail.clone().unwrap_or_default())
        .collect();
    assert_eq!(
        written,
        [format!("QL-{FORCE_ID}-{}-1; attachments: 1", &id[..12])]
    );

    // The export lists it, signed, with the stored file's SHA-256.
    let export = ann
        .submit(
            &form,
            &format!("{form}/export"),
            &[("number", "1"), ("format", "json")],
        )
        .await;
    assert_eq!(export.status, 200);
    let file = report::verify(export.body.as_bytes(), None).unwrap();
    assert_eq!(file.report.attachments.len(), 1);
    let a = &file.report.attachments[0];
    assert_eq!((a.number, a.file.as_str()), (1, file_name.as_str()));
    assert_eq!(a.media_type, "image/jpeg");
    assert_eq!(a.size, photo.len() as u64);
    assert_eq!(a.sha256, hex::encode(sha2::Sha256::digest(&photo)));
    assert!(
        !export.body.contains("\"key\""),
        "never the attachment's key"
    );
    let html = ann
        .submit(
            &form,
            &format!("{form}/export"),
            &[("number", "1"), ("format", "html")],
        )
        .await;
    assert!(
        html.body
            .contains(&format!("<a href=\"{file_name}\">{file_name}</a>"))
    );

    // The download: the exact file, under the export's name, never cached,
    // audited once.
    let before = attachment_reads(&w, &id).await;
    let (status, h, body) = ann.get_bytes(&link).await;
    assert_eq!(status, 200);
    assert_eq!(body, photo);
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(
        h["content-disposition"],
        format!("attachment; filename=\"{file_name}\"").as_str()
    );
    assert_eq!(attachment_reads(&w, &id).await, before + 1);

    // Not chosen, no such report, or no session: no file.
    let (status, _, body) = ann
        .get_bytes(&format!("/cases/{id}/intel-report/1/attachments/2"))
        .await;
    assert_ne!(status, 200);
    assert!(!body.starts_with(b"%PDF"));
    let (status, _, _) = ann
        .get_bytes(&format!("/cases/{id}/intel-report/2/attachments/1"))
        .await;
    assert_ne!(status, 200);
    let mut stranger = w.td.browser();
    let (status, _, body) = stranger.get_bytes(&link).await;
    assert_ne!(status, 200);
    assert_ne!(body, photo);
    w.stop().await;
}

/// Issue 19 in the browser: the report form's "Attachments to include",
/// the refusal without the second confirmation beside the field, the report
/// written with the photo and the photo downloaded from the report page;
/// axe-clean; screenshot `docs/screenshots/desk-intel-attachments.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_desk_intel_report_with_attachment_is_axe_clean() {
    use crate::browser_desk::{assert_screenshots, screenshots, script, start};
    let Some(w) = start().await else {
        return;
    };
    let (mut ann, pw, secret) = signed_in(&w.td, "ann", Role::Handler).await;
    let (id, photo) = case_with_attachments(&mut ann, &w).await;
    crate::support::graded(&w.td.desk, &custodian(), &id).await;
    let file = quietline_casework::desk::export::attachment_file_name(&id, 1, "image/jpeg");
    let shots = screenshots();
    let result = script(
        &w,
        "work_intel_attachments.mjs",
        &serde_json::json!({
            "ann": {"account": "ann", "password": pw, "code": w.td.code(&secret)},
            "caseId": id,
            "file": file,
            "screenshots": shots,
        }),
    )
    .await;
    assert_eq!(result["downloaded"]["name"], file.as_str());
    assert_eq!(result["downloaded"]["size"], photo.len());
    assert_screenshots(&shots, &["desk-intel-attachments.png"]);
    w.stop().await;
}
