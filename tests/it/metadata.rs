//! Metadata: the server remembers nothing identifying. Run the real binary on
//! SQLite with its output captured, send requests that carry canaries in every
//! place a client controls (forwarding headers, User-Agent, cookie, referer,
//! query string, path, body, an unknown method), then search every file the
//! server wrote (database, WAL, shared memory, anything else in the data dir)
//! and everything it printed for the canaries, the client address, the token,
//! and the time of day — none may appear.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::support::server::Serve;
use crate::support::server::{
    Process, TestForce, admin_ok, client, random_slot, reply_for, rng, solve,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const FORWARDED_IP: &str = "203.0.113.7";
const USER_AGENT: &str = "QuietlineCanary/7.7";
const CANARIES: &[&str] = &[
    FORWARDED_IP,
    "QuietlineCanary",
    "canary-cookie-5150",
    "canary-referer-8080",
    "canary-query-4242",
    "canary-path-1717",
    "canary-body-3131",
    "CANARYMETHOD",
    "canary-header-9999",
];

/// Canaries of an attachment (issue 19): its file name, and a GPS position
/// and a camera serial inside the file.
const ATTACHMENT_NAME: &str = "IMG_canary-file-2468.jpg";
const ATTACHMENT_GPS: &[u8] = b"GPSLatitude=51.50071;";
const ATTACHMENT_SERIAL: &[u8] = b"BodySerialNumber=SN-CANARY-4711;";

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// `HH:MM` (UTC) of a Unix time.
fn hh_mm(secs: u64) -> String {
    let s = secs % 86_400;
    format!("{:02}:{:02}", s / 3600, (s % 3600) / 60)
}

/// `HH:MM` in the machine's local time zone, if `date` can tell.
fn local_hh_mm() -> Option<String> {
    let out = std::process::Command::new("date")
        .arg("+%H:%M")
        .output()
        .ok()?;
    Some(String::from_utf8(out.stdout).ok()?.trim().to_owned())
}

fn all_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            all_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Every needle that occurs in any of `sources`, with where.
/// The one time the server writes on purpose: it overwrites each migration's
/// `installed_on` with this (src/storage/sqlite.rs). It holds "00:00", so a
/// run in the first minute after midnight would otherwise find its own time.
pub(crate) const SCRUBBED_MIGRATION_TIME: &str = "1970-01-01 00:00:00";

/// `bytes` with every [`SCRUBBED_MIGRATION_TIME`] blanked out.
pub(crate) fn without_scrubbed_time(bytes: &[u8]) -> Vec<u8> {
    let pat = SCRUBBED_MIGRATION_TIME.as_bytes();
    let mut out = bytes.to_vec();
    let mut i = 0;
    while i + pat.len() <= out.len() {
        if &out[i..i + pat.len()] == pat {
            out[i..i + pat.len()].fill(b'_');
            i += pat.len();
        } else {
            i += 1;
        }
    }
    out
}

fn findings(sources: &[(String, Vec<u8>)], needles: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for (name, bytes) in sources {
        let bytes = without_scrubbed_time(bytes);
        for n in needles {
            if contains(&bytes, n) {
                found.push(format!("{n:?} in {name}"));
            }
        }
    }
    found
}

fn files_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    all_files(dir, &mut files);
    files
        .into_iter()
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

/// `req` with the canaries a client puts in its headers: forwarding
/// headers, User-Agent, cookie and referer.
fn with_canaries(req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    req.header("x-forwarded-for", FORWARDED_IP)
        .header("x-real-ip", FORWARDED_IP)
        .header("forwarded", format!("for={FORWARDED_IP}"))
        .header("user-agent", USER_AGENT)
        .header("cookie", "session=canary-cookie-5150")
        .header("referer", "https://example.org/canary-referer-8080")
}

/// Add the times of day of a run from `started` to `ended` (UTC every 30
/// seconds, and the `local` ones seen) and its Unix seconds to `needles`,
/// then sort them and drop repeats.
fn add_times(needles: &mut Vec<String>, started: u64, ended: u64, local: Vec<String>) {
    for t in (started..=ended + 1).step_by(30).chain([ended]) {
        needles.push(hh_mm(t));
    }
    needles.extend(local);
    for t in started..=ended {
        needles.push(t.to_string());
    }
    needles.sort();
    needles.dedup();
}

/// The proof of work solved from a challenge response's JSON over `body`.
fn solve_challenge(v: &serde_json::Value, body: &[u8]) -> String {
    let challenge = URL_SAFE_NO_PAD
        .decode(v["challenge"].as_str().unwrap())
        .unwrap();
    solve(
        challenge.try_into().unwrap(),
        v["difficulty"].as_u64().unwrap() as u8,
        body,
    )
}

/// For a blob of `size` sealed octets to `north`: the body that begins its
/// upload, and the proof of work over it solved from the blob challenge
/// response `res`.
async fn blob_body_and_pow(res: reqwest::Response, size: u64) -> (Vec<u8>, String) {
    let v: serde_json::Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
    let body = format!(r#"{{"force":"north","size":{size}}}"#).into_bytes();
    let pow = solve_challenge(&v, &body);
    (body, pow)
}

/// `req` sent with `body` of `content_type` and its proof of work.
async fn send_with_pow(
    req: reqwest::RequestBuilder,
    content_type: &str,
    pow: String,
    body: Vec<u8>,
) -> reqwest::Response {
    req.header("content-type", content_type)
        .header("quietline-pow", pow)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// The id in a `201` response's JSON.
async fn created_id(res: reqwest::Response) -> String {
    assert_eq!(res.status(), 201);
    let v: serde_json::Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
    v["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn nothing_identifying_is_written_or_printed() {
    let started = now_secs();
    let mut local_times: Vec<String> = local_hh_mm().into_iter().collect();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();

    let (private_key, public_key) = quietline_crypto::keys::generate_keypair(&mut rng());
    let force = TestForce {
        id: "north".into(),
        private_key,
        public_key,
    };
    admin_ok(data, None, &["force", "add", "north", "--name", "North"]);
    admin_ok(
        data,
        None,
        &[
            "force",
            "key",
            "add",
            "north",
            "--public-key",
            &force.public_key.to_base64url(),
        ],
    );
    let token = admin_ok(
        data,
        None,
        &["token", "issue", "--force", "north", "--label", "desk"],
    )
    .trim()
    .to_owned();

    // Default settings: the access log is on, so what it writes is checked too.
    let server = Process::serve(data, &[]);
    let http = client();
    let canary_headers =
        |req: reqwest::RequestBuilder| with_canaries(req).header("x-canary", "canary-header-9999");

    // The proof of work's challenge is fetched with the canaries too.
    let pow = async |envelope: &[u8]| {
        let res = canary_headers(http.get(server.url("/api/v1/challenge?canary-query-4242")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let v: serde_json::Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
        solve_challenge(&v, envelope)
    };

    let mut ids = Vec::new();
    for i in 0..3u8 {
        let envelope = force.report(&[i; 10]);
        let pow = pow(&envelope).await;
        let res = send_with_pow(
            canary_headers(http.post(server.url("/api/v1/reports?canary-query-4242=1"))),
            "application/octet-stream",
            pow,
            envelope,
        )
        .await;
        assert_eq!(res.status(), 201);
        assert!(res.headers().get("set-cookie").is_none());
        ids.push(res.text().await.unwrap());
    }
    // Failing requests carry canaries in the body, the path and the method.
    let res = canary_headers(
        http.post(server.url("/api/v1/reports"))
            .header("content-type", "application/octet-stream")
            .body(b"canary-body-3131 is not an envelope".to_vec()),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 400);
    let res = canary_headers(http.get(server.url("/api/v1/canary-path-1717?canary-query-4242")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = canary_headers(http.request(
        reqwest::Method::from_bytes(b"CANARYMETHOD").unwrap(),
        server.url("/api/v1/forces"),
    ))
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 405);
    // A handler's requests, and a reply slot.
    let res = canary_headers(
        http.get(server.url("/api/v1/inbox?limit=10"))
            .bearer_auth(&token),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let slot = random_slot();
    let res = canary_headers(
        http.put(server.url(&format!("/api/v1/slots/{}", hex::encode(slot))))
            .bearer_auth(&token)
            .header("content-type", "application/octet-stream")
            .body(reply_for(slot, b"reply")),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 201);
    // A reporter's own copy (crypto/FORMAT.md#own-copies), written and read back.
    let copy_box = random_slot();
    let copy = reply_for(copy_box, b"my own copy");
    let copy_pow = pow(&copy).await;
    let res = canary_headers(
        http.post(server.url(&format!(
            "/api/v1/copies/{}?canary-query-4242=1",
            hex::encode(copy_box)
        )))
        .header("content-type", "application/octet-stream")
        .header("quietline-pow", copy_pow)
        .body(copy),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 201);
    let res =
        canary_headers(http.get(server.url(&format!("/api/v1/copies/{}", hex::encode(copy_box)))))
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), 200);

    // An attachment (issue 19): a photo whose octets carry a GPS position and
    // a camera serial, sealed with the attachment stream, uploaded with a file
    // name in the headers, in parts, and fetched by the handler. None of the
    // file name, the metadata values or the addresses may be kept.
    let photo: Vec<u8> = [ATTACHMENT_GPS, ATTACHMENT_SERIAL].concat().repeat(5000);
    let sealed = quietline_crypto::stream::seal(
        &quietline_crypto::stream::StreamKey::from_bytes([7; 32]),
        &photo,
    )
    .unwrap();
    let size = sealed.len();
    let res = canary_headers(http.get(server.url(&format!("/api/v1/blobs/challenge?size={size}"))))
        .send()
        .await
        .unwrap();
    let (body, pow_header) = blob_body_and_pow(res, size as u64).await;
    let res = canary_headers(
        http.post(server.url("/api/v1/blobs"))
            .header("content-type", "application/json")
            .header("quietline-pow", pow_header)
            .header(
                "content-disposition",
                format!("attachment; filename=\"{ATTACHMENT_NAME}\""),
            )
            .body(body),
    )
    .send()
    .await
    .unwrap();
    let blob_id = created_id(res).await;
    for (n, part) in sealed.chunks(16 * 65552).enumerate() {
        let res = canary_headers(
            http.put(server.url(&format!("/api/v1/blobs/{blob_id}/parts/{n}")))
                .header("content-type", "application/octet-stream")
                .header(
                    "content-disposition",
                    format!("attachment; filename=\"{ATTACHMENT_NAME}\""),
                )
                .body(part.to_vec()),
        )
        .send()
        .await
        .unwrap();
        assert_eq!(res.status(), 200);
    }
    let res = canary_headers(
        http.get(server.url(&format!("/api/v1/inbox/blobs/{blob_id}")))
            .bearer_auth(&token),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.bytes().await.unwrap()[..] == sealed[..]);

    let mut needles: Vec<String> = CANARIES.iter().map(|s| s.to_string()).collect();
    needles.extend([ATTACHMENT_NAME, "51.50071", "SN-CANARY-4711"].map(String::from));
    needles.push(token.clone());
    needles.push(hex::encode(quietline::admin::token_hash(&token)));

    // While it runs: the WAL and shared-memory files exist now.
    let live = files_of(data);
    assert!(
        live.iter()
            .any(|(n, _)| n.ends_with("quietline.sqlite-wal")),
        "the WAL is searched too: {:?}",
        live.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );

    let captured = server.stop();
    assert!(captured.success);
    let ended = now_secs();
    local_times.extend(local_hh_mm());

    // Times of day from the whole run, UTC and local, and the Unix seconds.
    add_times(&mut needles, started, ended, local_times);

    let mut sources = live;
    sources.extend(files_of(data));
    sources.push(("stdout".into(), captured.stdout.clone()));
    sources.push(("stderr".into(), captured.stderr.clone()));
    let found = findings(&sources, &needles);
    assert!(found.is_empty(), "identifying data was kept: {found:#?}");

    // The output did say something (so the search above searched something):
    // the address line, and one access line per request with the route template.
    let stdout = String::from_utf8_lossy(&captured.stdout);
    let stderr = String::from_utf8_lossy(&captured.stderr);
    assert!(stdout.starts_with("listening on http://127.0.0.1:"));
    assert!(stderr.contains("/api/v1/reports"), "{stderr}");
    assert!(stderr.contains("/api/v1/challenge"), "{stderr}");
    assert!(
        stderr.contains("/api/v1/slots/{address}"),
        "route templates only: {stderr}"
    );
    assert!(stderr.contains("(no route)"), "{stderr}");
    assert!(
        stderr.contains("/api/v1/blobs/{id}/parts/{n}"),
        "route templates only: {stderr}"
    );
    assert!(
        !stderr.contains(&blob_id),
        "no blob id in the log: {stderr}"
    );
    assert!(
        stderr.contains("OTHER"),
        "an unknown method is not echoed: {stderr}"
    );
    assert!(
        !stderr.contains(&hex::encode(slot)),
        "no concrete path: {stderr}"
    );
    assert!(
        stderr.contains("/api/v1/copies/{copy_box}"),
        "route templates only: {stderr}"
    );
    assert!(
        !stderr.contains(&hex::encode(copy_box)),
        "no concrete path: {stderr}"
    );
    for id in &ids {
        let id: serde_json::Value = serde_json::from_str(id).unwrap();
        assert!(!stderr.contains(id["id"].as_str().unwrap()));
    }
}

#[test]
fn the_scrubbed_migration_time_hides_no_other_time() {
    let text = b"x 1970-01-01 00:00:00 y 00:00 z";
    let cleaned = without_scrubbed_time(text);
    assert!(
        contains(&cleaned, "00:00"),
        "a real 00:00 beside it is still found"
    );
    assert!(!contains(
        &without_scrubbed_time(b"1970-01-01 00:00:00"),
        "00:00"
    ));
}

// ------------------------------------------------------- attachments, both backends

/// Parts whose octets the server stores as sent (it cannot tell sealed
/// octets from any others): found while held, gone from every file, the
/// WAL and every row once the purge has removed their blobs.
const SEALED_CANARY_UPLOAD: &[u8; 16] = b"QL-UPLOAD-CANARY";
const SEALED_CANARY_UNFETCHED: &[u8; 16] = b"QL-UNREF-CANARY!";

/// An attachment on SQLite and on PostgreSQL, through the real binary with
/// its access log on: a photo whose octets carry a GPS position and a camera
/// serial, sealed and uploaded in parts with a canary file name
/// (`Content-Disposition`, and in a refused query), `User-Agent`,
/// `X-Forwarded-For` (`X-Real-IP`, `Forwarded`), `Referer` and cookie, and
/// fetched by the force; an upload never completed and a blob never fetched,
/// both of canary octets. Every file in the data directory (database, WAL),
/// the whole output and (PostgreSQL) every row: none of the canaries, no IP
/// address but the server's own listen address and the database host in its
/// start-up lines, no time of day. Then `quietline purge`'s code on a clock
/// 20 days on: the two canary blobs leave nothing in the files, WAL or rows,
/// and the fetched photo stays.
async fn blob_upload_leaves_no_metadata(backend: crate::support::server::Backend) {
    use quietline_crypto::stream;
    let Some(setup) = crate::support::server::BinarySetup::new(backend).await else {
        return;
    };
    let started = now_secs();
    let mut local_times: Vec<String> = local_hh_mm().into_iter().collect();
    let data = setup.data_dir().to_owned();
    let url = setup.db.url.clone();
    let is_pg = backend == crate::support::server::Backend::Postgres;
    let server = setup.serve();
    let http = client();
    let canary_headers = |req: reqwest::RequestBuilder| {
        with_canaries(req).header(
            "content-disposition",
            format!("attachment; filename=\"{ATTACHMENT_NAME}\""),
        )
    };
    // Begin an upload of `size` sealed octets with the canaries on every request.
    let begin = async |size: u64| -> String {
        let res =
            canary_headers(http.get(server.url(&format!("/api/v1/blobs/challenge?size={size}"))))
                .send()
                .await
                .unwrap();
        assert_eq!(res.status(), 200);
        let (body, pow) = blob_body_and_pow(res, size).await;
        let res = send_with_pow(
            canary_headers(http.post(server.url("/api/v1/blobs"))),
            "application/json",
            pow,
            body,
        )
        .await;
        created_id(res).await
    };
    let put = async |id: &str, n: usize, part: Vec<u8>| {
        let res = canary_headers(
            http.put(server.url(&format!("/api/v1/blobs/{id}/parts/{n}")))
                .header("content-type", "application/octet-stream")
                .body(part),
        )
        .send()
        .await
        .unwrap();
        assert_eq!(res.status(), 200);
    };

    // The photo: sealed, sent in parts, fetched by the force (so kept).
    let photo: Vec<u8> = [ATTACHMENT_GPS, ATTACHMENT_SERIAL].concat().repeat(20_000);
    let key = stream::StreamKey::from_bytes([9; 32]);
    let sealed = stream::seal(&key, &photo).unwrap();
    let photo_id = begin(sealed.len() as u64).await;
    for (n, part) in sealed.chunks(16 * 65552).enumerate() {
        put(&photo_id, n, part.to_vec()).await;
    }
    let res = canary_headers(
        http.get(server.url(&format!("/api/v1/inbox/blobs/{photo_id}")))
            .bearer_auth(&setup.token),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.bytes().await.unwrap()[..] == sealed[..]);
    // An upload never completed (one part of two) and a blob never fetched.
    let tagged =
        |tag: &[u8; 16], len: usize| -> Vec<u8> { tag.iter().copied().cycle().take(len).collect() };
    let two_parts = stream::sealed_len(2 << 20);
    let never_done = begin(two_parts).await;
    put(&never_done, 0, tagged(SEALED_CANARY_UPLOAD, 16 * 65552)).await;
    let never_fetched = begin(65552).await;
    put(&never_fetched, 0, tagged(SEALED_CANARY_UNFETCHED, 65552)).await;
    // A refused request carrying the file name in its query.
    let res = canary_headers(http.get(server.url(&format!(
        "/api/v1/blobs/challenge?size=65552&name={ATTACHMENT_NAME}"
    ))))
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 400);

    let mut sources = files_of(&data);
    let captured = server.stop();
    assert!(captured.success);
    sources.extend(files_of(&data));
    if is_pg {
        sources.push((
            "the PostgreSQL rows".into(),
            crate::page_metadata::dump_postgres(&url).await,
        ));
    }
    let ended = now_secs();
    local_times.extend(local_hh_mm());

    // The sealed canaries are held now (the search sees stored octets).
    for tag in [SEALED_CANARY_UPLOAD, SEALED_CANARY_UNFETCHED] {
        let tag = std::str::from_utf8(tag).unwrap();
        assert!(
            !findings(&sources, &[tag.to_owned(), hex::encode(tag)]).is_empty(),
            "{tag} is found while it is held"
        );
    }

    // The listen address is printed on purpose at start-up, and the database
    // host in the (credential-free) start-up line; nothing else may hold one.
    let stdout = String::from_utf8_lossy(&captured.stdout).into_owned();
    let listen = stdout
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("listening on http://"))
        .unwrap()
        .trim()
        .to_owned();
    let db_host = url
        .split_once('@')
        .and_then(|(_, rest)| rest.split('/').next())
        .filter(|_| is_pg)
        .map(|h| format!("@{h}/"));
    let scrub = |bytes: &[u8]| -> Vec<u8> {
        let mut text = String::from_utf8_lossy(bytes).replace(&listen, "<listen address>");
        if let Some(h) = &db_host {
            text = text.replace(h.as_str(), "@<database host>/");
        }
        text.into_bytes()
    };
    sources.push(("stdout".into(), scrub(&captured.stdout)));
    sources.push(("stderr".into(), scrub(&captured.stderr)));

    let mut needles: Vec<String> = CANARIES.iter().map(|s| s.to_string()).collect();
    needles.extend(
        [
            ATTACHMENT_NAME,
            "canary-file-2468",
            "51.50071",
            "SN-CANARY-4711",
        ]
        .map(String::from),
    );
    let hex_needles: Vec<String> = needles.iter().map(|n| hex::encode(n.as_bytes())).collect();
    needles.extend(hex_needles);
    needles.push(setup.token.clone());
    add_times(&mut needles, started, ended, local_times);
    let mut found = findings(&sources, &needles);
    for (name, bytes) in &sources {
        for ip in crate::page_metadata::ipv4_addresses(bytes) {
            found.push(format!("IP address {ip} in {name}"));
        }
    }
    assert!(found.is_empty(), "identifying data was kept: {found:#?}");
    let stderr = String::from_utf8_lossy(&captured.stderr);
    assert!(
        stderr.contains("/api/v1/blobs/{id}/parts/{n}"),
        "the access log was searched: {stderr}"
    );

    // The purge (`quietline purge`'s code) on a clock 20 days on: the upload
    // never completed and the blob never fetched are gone, octets and all.
    let storage = quietline::storage::open(&url).await.unwrap();
    let clock = quietline::day::Clock::set_at(now_secs() + 20 * 86_400);
    let mut out = Vec::new();
    let (_, blobs) = quietline::admin::run_purge_at(storage.as_ref(), &clock, 90, 14, &mut out)
        .await
        .unwrap();
    assert_eq!(
        (
            blobs.expired_uploads,
            blobs.unreferenced,
            blobs.past_retention
        ),
        (1, 1, 0),
        "{}",
        String::from_utf8_lossy(&out)
    );
    let mut photo_id_bytes = [0u8; 16];
    hex::decode_to_slice(&photo_id, &mut photo_id_bytes).unwrap();
    assert_eq!(
        storage.blob_len("north", photo_id_bytes).await.unwrap(),
        Some(sealed.len() as u64),
        "the fetched photo is kept for the retention period"
    );
    storage.close().await;
    let mut after = files_of(&data);
    if is_pg {
        after.push((
            "the PostgreSQL rows".into(),
            crate::page_metadata::dump_postgres(&url).await,
        ));
    }
    let gone: Vec<String> = [SEALED_CANARY_UPLOAD, SEALED_CANARY_UNFETCHED]
        .iter()
        .flat_map(|t| {
            let t = std::str::from_utf8(*t).unwrap();
            [t.to_owned(), hex::encode(t)]
        })
        .collect();
    let left = findings(&after, &gone);
    assert!(
        left.is_empty(),
        "purged blobs left octets behind: {left:#?}"
    );
    setup.db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blob_upload_leaves_no_metadata_sqlite() {
    blob_upload_leaves_no_metadata(crate::support::server::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blob_upload_leaves_no_metadata_postgres() {
    blob_upload_leaves_no_metadata(crate::support::server::Backend::Postgres).await;
}
