//! Attachments end to end on loopback (issue 19): real sealed blobs uploaded
//! to a real server through the blob API (`quietline_testkit::blobs`), a
//! report that lists them, `pull` (which fetches, checks and stores each
//! blob), `attachments` and `attachment save` through the real binary: the
//! exact bytes back, a missing, an altered and a cut blob each kept flagged
//! without stopping the pull, the missing one fetched by a later pull once
//! its upload completes, and each read audited. A transferred case takes
//! its attachments with it (issues 17 × 19): re-sealed and uploaded to the
//! receiving force, which pulls and stores them exact; one the sending
//! force never received is passed on unchanged and counted.

use quietline_crypto::payload::{AttachmentRef, Payload};
use quietline_testkit::blobs;

use crate::support::{Console, Reporter};

fn entry(v: serde_json::Value) -> AttachmentRef {
    serde_json::from_value(v).unwrap()
}

#[test]
fn pulled_attachments_come_back_exact_and_bad_blobs_are_flagged() {
    let server = crate::support::start_server();
    server.add_force("north", "North Constabulary");
    let mut c = Console::new();
    let pk = c.init("north");
    server.add_key("north", &pk);
    let token = server.token("north", "h");
    c.login(&server.base, &token);
    let http = quietline_testkit::server::client();
    let base = server.base.clone();

    // 1: a photo over one stored part (1.5 MB: two parts of the vault's),
    // its GPS, model and time found by the page and sent as is.
    let photo = blobs::jpeg_with_gps(1_500_000);
    let good = blobs::seal(&photo, "image/jpeg");
    // 2: altered after sealing (a bit of chunk 1 flipped before upload).
    let doc = vec![7u8; 200_000];
    let altered = blobs::seal(&doc, "application/pdf");
    let mut altered_blob = altered.blob.clone();
    altered_blob[65552 + 10] ^= 1;
    // 3: cut: the entry says a bucket twice the blob's.
    let cut = blobs::seal(&[1u8; 70_000], "video/mp4");
    // 4: missing: an upload begun, its parts not yet sent.
    let late = blobs::seal(&[2u8; 1000], "image/png");
    let (good_id, altered_id, cut_id, (late_id, part_len)) = server.block_on(async {
        (
            blobs::upload(&http, &base, "north", &good.blob).await,
            blobs::upload(&http, &base, "north", &altered_blob).await,
            blobs::upload(&http, &base, "north", &cut.blob).await,
            blobs::begin(&http, &base, "north", late.blob.len()).await,
        )
    });
    let mut cut_entry = cut.entry(&cut_id, &[], &[]);
    cut_entry["padded_size"] = serde_json::json!(cut.padded_size * 2);

    let reporter = Reporter::new();
    let mut payload = reporter.report_payload("a report with four attachments");
    if let Payload::Report(r) = &mut payload {
        r.attachments = vec![
            entry(good.entry(&good_id, &["location", "device", "time"], &[])),
            entry(altered.entry(&altered_id, &[], &[])),
            entry(cut_entry),
            entry(late.entry(&late_id, &["text"], &["text"])),
        ];
    }
    let id = server.submit(reporter.seal("north", &pk, &payload));
    let short = &id[..8];

    let pulled = c.ok(&["pull"]);
    assert!(
        pulled.contains("Pulled 1 new envelope(s): 1 opened"),
        "{pulled}"
    );
    assert!(
        pulled.contains("Attachments: 1 stored, 3 flagged, 0 to fetch again"),
        "{pulled}"
    );

    let listed = c.ok(&["attachments", short]);
    for want in [
        "1. image/jpeg · 1.5 MB · stored",
        "metadata removed by the page: none; sent as is with: GPS position, camera or phone model, time taken; still in the file (read here): GPS position, camera or phone model, time taken, comments",
        "2. application/pdf · 200.0 kB · flagged: the attachment was altered after sealing (chunk 1)",
        "3. video/mp4 · 70.0 kB · flagged: the attachment arrived incomplete",
        "4. image/png · 1.0 kB · flagged: the server does not hold this attachment",
        "metadata removed by the page: PNG text",
    ] {
        assert!(listed.contains(want), "missing {want:?} in:\n{listed}");
    }
    // No key, blob id or hash is printed.
    for secret in [&good_id, &good.sha256] {
        assert!(!listed.contains(secret.as_str()), "{listed}");
    }

    let shown = c.ok(&["show", short]);
    assert!(shown.contains("Attachments: 4 (1 stored;"), "{shown}");

    // The exact bytes back; an existing file is never overwritten.
    let out = c.dir.path().join("photo.jpg");
    c.ok(&[
        "attachment",
        "save",
        short,
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read(&out).unwrap(), photo);
    let e = c.fails(&[
        "attachment",
        "save",
        short,
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(e.contains("an existing file is never overwritten"), "{e}");
    // A flagged one cannot be saved, and leaves no file.
    let bad = c.dir.path().join("doc.pdf");
    let e = c.fails(&[
        "attachment",
        "save",
        short,
        "2",
        "--out",
        bad.to_str().unwrap(),
    ]);
    assert!(e.contains("attachment 2 cannot be opened"), "{e}");
    assert!(!bad.exists());
    let e = c.fails(&[
        "attachment",
        "save",
        short,
        "9",
        "--out",
        bad.to_str().unwrap(),
    ]);
    assert!(e.contains("there is no attachment 9"), "{e}");

    // The late upload completes: the next pull fetches it; the cut one was
    // fetched a second time and stays flagged.
    server.block_on(async { blobs::put_parts(&http, &base, &late_id, part_len, &late.blob).await });
    let again = c.ok(&["pull"]);
    assert!(
        again.contains("Attachments: 1 stored, 1 flagged, 0 to fetch again"),
        "{again}"
    );
    let listed = c.ok(&["attachments", short]);
    assert!(
        listed.contains("4. image/png · 1.0 kB · stored"),
        "{listed}"
    );
    let third = c.ok(&["pull"]);
    assert!(
        !third.contains("Attachments:"),
        "nothing left to fetch: {third}"
    );
    let png = c.dir.path().join("late.png");
    c.ok(&[
        "attachment",
        "save",
        short,
        "4",
        "--out",
        png.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read(&png).unwrap(), vec![2u8; 1000]);

    // The raw export: the HTML links each stored file by the name it is
    // written under beside it; the JSON lists them and holds no key.
    let dir = c.dir.path().join("export");
    std::fs::create_dir(&dir).unwrap();
    let page = dir.join("case.html");
    c.ok(&[
        "export",
        short,
        "--reason",
        "CID request 7",
        "--format",
        "html",
        "--output",
        page.to_str().unwrap(),
    ]);
    let html = std::fs::read_to_string(&page).unwrap();
    let photo_name = format!("quietline-case-{}-attachment-1.jpg", &id[..12]);
    assert!(
        html.contains(&format!("<a href=\"{photo_name}\">")),
        "{html}"
    );
    assert_eq!(std::fs::read(dir.join(&photo_name)).unwrap(), photo);
    assert!(
        dir.join(format!("quietline-case-{}-attachment-4.png", &id[..12]))
            .exists()
    );
    assert!(
        !dir.join(format!("quietline-case-{}-attachment-2.pdf", &id[..12]))
            .exists(),
        "flagged: not written"
    );
    let json = c.ok(&["export", short, "--reason", "CID request 7"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["attachments"][0]["file"], photo_name.as_str());
    assert!(
        !json.contains(
            &good.entry(&good_id, &[], &[])["key"]
                .as_str()
                .unwrap()
                .to_owned()
        ),
        "no key in an export"
    );

    // Every look is in the audit log, before what it showed.
    let log = c.ok(&["audit"]);
    assert!(log.contains("attachments"), "{log}");
    assert!(log.contains("n=1 save"), "{log}");
    let v = c.ok(&["audit", "verify"]);
    assert!(v.contains("intact"), "{v}");
}

/// A north console and a west console on one server, both logged in.
fn two_forces() -> (
    quietline_testkit::blocking::Server,
    Console,
    quietline_crypto::keys::PublicKey,
    Console,
) {
    let server = crate::support::start_server();
    server.add_force("north", "North Constabulary");
    server.add_force("west", "Western Demo Police");
    let mut a = Console::new();
    let pk_a = a.init("north");
    server.add_key("north", &pk_a);
    let token = server.token("north", "a");
    a.login(&server.base, &token);
    let mut b = Console::new();
    let pk_b = b.init("west");
    server.add_key("west", &pk_b);
    let token = server.token("west", "b");
    b.login(&server.base, &token);
    (server, a, pk_a, b)
}

/// The one case id in `list` output that is not in `known`.
fn new_case(list: &str, known: &[String]) -> String {
    list.lines()
        .filter_map(|l| l.split_whitespace().next())
        .find(|w| {
            w.len() >= 8
                && w.bytes().all(|c| c.is_ascii_hexdigit())
                && !known.iter().any(|k| k == w)
        })
        .unwrap_or_else(|| panic!("no new case in:\n{list}"))
        .to_owned()
}

/// SHA-256 of a file, hex.
fn sha256_of(path: &std::path::Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

/// Issues 17 × 19: force A (north) pulls a report with a photo (two parts
/// of the server's) and transfers it to force B (west); the photo is
/// re-sealed and uploaded to B before the report, B's pull stores it whole
/// with nothing flagged, and it saves with the same SHA-256 and the
/// metadata kinds the reporter's page recorded. A follow-up with an
/// attachment that still reaches A is passed on by A's pull with its
/// attachment too. A case whose attachment A never received (its upload
/// never completed) is still transferred, and A says one attachment could
/// not be passed on; B sees it flagged.
#[test]
fn a_transferred_case_takes_its_attachments_to_the_receiving_force() {
    let (server, a, pk_a, b) = two_forces();
    let http = quietline_testkit::server::client();
    let base = server.base.clone();
    let photo = blobs::jpeg_with_gps(1_500_000);
    let good = blobs::seal(&photo, "image/jpeg");
    let good_id = server.block_on(blobs::upload(&http, &base, "north", &good.blob));
    let reporter = Reporter::new();
    let mut payload = reporter.report_payload("a report with a photo");
    if let Payload::Report(r) = &mut payload {
        r.attachments = vec![entry(good.entry(
            &good_id,
            &["location", "device", "time"],
            &[],
        ))];
    }
    let id = server.submit(reporter.seal("north", &pk_a, &payload));
    let pulled = a.ok(&["pull"]);
    assert!(
        pulled.contains("Attachments: 1 stored, 0 flagged"),
        "{pulled}"
    );

    let out = a.ok(&[
        "transfer",
        &id[..8],
        "--to",
        "west",
        "--reason",
        "Western area",
    ]);
    assert!(
        out.contains("Attachments passed on: 1 (re-sealed under new keys")
            && !out.contains("could not be passed on"),
        "{out}"
    );

    let pulled = b.ok(&["pull"]);
    assert!(
        pulled.contains("from North Constabulary (north)")
            && pulled.contains("Attachments: 1 stored, 0 flagged"),
        "{pulled}"
    );
    let case_b = new_case(&b.ok(&["list"]), &[]);
    let listed = b.ok(&["attachments", &case_b]);
    assert!(
        listed.contains("1. image/jpeg · 1.5 MB · stored")
            && listed.contains("sent as is with: GPS position, camera or phone model, time taken"),
        "{listed}"
    );
    let saved = b.dir.path().join("photo.jpg");
    b.ok(&[
        "attachment",
        "save",
        &case_b,
        "1",
        "--out",
        saved.to_str().unwrap(),
    ]);
    assert_eq!(sha256_of(&saved), good.sha256, "the same bytes at B");

    // A follow-up with an attachment still sent to North: A's pull stores
    // its attachment, then passes the follow-up on with it.
    let doc = vec![9u8; 300_000];
    let sealed_doc = blobs::seal(&doc, "application/pdf");
    let doc_id = server.block_on(blobs::upload(&http, &base, "north", &sealed_doc.blob));
    let mut fu = reporter.follow_up_payload("and a document");
    if let Payload::FollowUp(f) = &mut fu {
        f.attachments = vec![entry(sealed_doc.entry(&doc_id, &[], &[]))];
    }
    server.submit(reporter.seal("north", &pk_a, &fu));
    let pulled = a.ok(&["pull"]);
    assert!(!pulled.contains("could not go with them"), "{pulled}");
    assert!(a.ok(&["show", &id[..8]]).contains("messages passed on: 2"));
    let pulled = b.ok(&["pull"]);
    assert!(
        pulled.contains("Attachments: 1 stored, 0 flagged"),
        "{pulled}"
    );
    let listed = b.ok(&["attachments", &case_b]);
    assert!(
        listed.contains("2. application/pdf · 300.0 kB · stored"),
        "{listed}"
    );
    let saved = b.dir.path().join("doc.pdf");
    b.ok(&[
        "attachment",
        "save",
        &case_b,
        "2",
        "--out",
        saved.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read(&saved).unwrap(), doc);

    // A case whose attachment North never received: still transferred, and said so.
    let late = blobs::seal(&[3u8; 5000], "image/png");
    let (late_id, _) = server.block_on(blobs::begin(&http, &base, "north", late.blob.len()));
    let other = Reporter::new();
    let mut payload = other.report_payload("a report whose photo never arrived");
    if let Payload::Report(r) = &mut payload {
        r.attachments = vec![entry(late.entry(&late_id, &[], &[]))];
    }
    let id2 = server.submit(other.seal("north", &pk_a, &payload));
    let pulled = a.ok(&["pull"]);
    assert!(
        pulled.contains("Attachments: 0 stored, 1 flagged"),
        "{pulled}"
    );
    let out = a.ok(&[
        "transfer",
        &id2[..8],
        "--to",
        "west",
        "--reason",
        "Western area too",
    ]);
    assert!(
        out.contains("transferred to Western Demo Police (west)")
            && out.contains("Attachments passed on: 0")
            && out.contains("1 could not be passed on"),
        "{out}"
    );
    let shown = a.ok(&["show", &id2[..8]]);
    assert!(shown.contains("attachments not passed on: 1"), "{shown}");
    let pulled = b.ok(&["pull"]);
    assert!(
        pulled.contains("Attachments: 0 stored, 1 flagged"),
        "{pulled}"
    );
    let case_b2 = new_case(&b.ok(&["list"]), &[case_b]);
    let listed = b.ok(&["attachments", &case_b2]);
    assert!(
        listed
            .contains("1. image/png · 5.0 kB · flagged: the server does not hold this attachment"),
        "{listed}"
    );
}
