//! The reporter page end to end in a real browser: Debian's headless Chromium
//! (`/usr/bin/chromium`, never a downloaded one) driven by playwright-core
//! scripts in `web/e2e/`, against a REAL server started here in-process on
//! 127.0.0.1:0 with SQLite in a temporary directory. The test holds the
//! force's private key (generated here, as a force's console would), so it can
//! open what the page sealed and answer it.
//!
//! - the journey, on a server with proof of work at its default floor (20
//!   bits): report through the page → the stored envelope opens to exactly
//!   what was typed (and does not contain it in the clear), and the proof of
//!   work it was sent with solves a 20-bit challenge over exactly its bytes →
//!   the force replies into slot 0 → the page shows the reply for the 12
//!   words → the follow-up arrives in the same thread, with its own proof →
//!   the page's own copies of both are in the code's box and the replies page
//!   shows the whole conversation in order (the report, the reply, the
//!   follow-up, each saying who wrote it), in English and in Welsh;
//! - the waiting screen while the proof of work runs: its progress bar and
//!   status, cancelling (answers kept, nothing stored), the automatic retry on
//!   a 429 for the proof, and sending again;
//! - axe-core at WCAG 2.2 AA on every screen (the waiting screen too), and
//!   reflow at 320 px;
//! - a keyboard-only walk through the whole journey;
//! - the no-JavaScript page; the error summary; "Exit this page";
//! - a case passed on to another force (issue 17): both forces' replies read
//!   with the same 12 words, each under its force (`browser_transfer_reply`).
//!
//! Without Node.js or Chromium these print `SKIPPED` outside CI and fail with
//! `CI=true`. Every test name starts with `browser_` (CI counts them).

use crate::support::server::{Backend, TestForce, TestServer, inbox_ids, rng, test_settings};
use quietline::ServerSettings;
use quietline::pow::PowSettings;
use quietline_crypto::envelope::Kind;
use quietline_crypto::open::open;
use quietline_crypto::payload::{
    Common, Known, Payload, Person, Reply, ReplyMaterial, ReportBody, Vehicle, When,
};
use quietline_crypto::reply_code::ReplyCode;
use quietline_crypto::seal::seal_reply;
use quietline_testkit::node::{e2e_ok, ensure_node_modules, require_node_and_chromium};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const FORCE_ID: &str = "north-shire";
const FORCE_NAME: &str = "North Shire Police";

/// A random marker, so a leak of typed text is found wherever it lands.
pub(crate) fn canary(label: &str) -> String {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).unwrap();
    format!("CANARY-{label}-{}", hex::encode(b))
}

/// What the scripts type, and what the decrypted report must then hold.
pub(crate) struct Answers {
    pub(crate) details: String,
    pub(crate) json: Value,
}

pub(crate) fn answers(details_canary: &str) -> Answers {
    answers_in("en", details_canary)
}

/// [`answers`] as a reporter using the page in `lang` ("en" or "cy") sees
/// the choices and check answers: the typed text is the same.
pub(crate) fn answers_in(lang: &str, details_canary: &str) -> Answers {
    let welsh = lang == "cy";
    let pick = |en: &'static str, cy: &'static str| if welsh { cy } else { en };
    // Several lines, non-ASCII, and spaces the page trims.
    let details = format!(
        "{details_canary}\nThree men unload boxes into the café’s back room at night.\nThey pay cash: £20 notes."
    );
    let json = json!({
        "forceName": FORCE_NAME,
        "lang": lang,
        "categoryLabel": pick("Drugs", "Cyffuriau"),
        "details": format!("{details}  "),
        "where": "Behind the old mill, Canal Street, Northtown",
        "day": "14",
        "month": "3",
        "year": "2024",
        "time": "10:15pm",
        "whenShown": pick("14 March 2024 at 22:15", "14 Mawrth 2024 am 22:15"),
        "ongoingLabel": pick("Yes", "Ydy"),
        "person": { "name": "Big Dave", "description": "Tall, about 40, red jacket" },
        "vehicle": {
            "registration": "AB12 CDE",
            "make_model": "Ford Transit",
            "colour": "White",
            "description": "Dent in the back door",
        },
        "howLabel": pick("I saw it", "Fe welais i hyn"),
        "howDetails": "I walk past most evenings",
    });
    Answers { details, json }
}

/// The report body the page must have sealed for [`answers`].
fn expected_report(a: &Answers) -> ReportBody {
    let s = |k: &str| a.json[k].as_str().unwrap().to_owned();
    let p = |k: &str| a.json["person"][k].as_str().unwrap().to_owned();
    let v = |k: &str| a.json["vehicle"][k].as_str().unwrap().to_owned();
    ReportBody {
        category: "drugs".into(),
        details: a.details.clone(),
        location: Known {
            known: true,
            description: s("where"),
        },
        when: When {
            known: true,
            date: Some("2024-03-14".into()),
            time: Some("22:15".into()),
            ongoing: true,
            ongoing_unknown: false,
            description: String::new(),
        },
        people: vec![Person {
            name: p("name"),
            description: p("description"),
        }],
        vehicles: vec![Vehicle {
            registration: v("registration"),
            make_model: v("make_model"),
            colour: v("colour"),
            description: v("description"),
        }],
        how_known: "saw".into(),
        how_known_details: s("howDetails"),
    }
}

/// A server with the force (and another, so the choice is a real one) and a
/// handler token; test settings (a low proof-of-work difficulty).
pub(crate) async fn server() -> (TestServer, TestForce, String) {
    server_with(test_settings()).await
}

/// [`server`] with these settings.
async fn server_with(settings: ServerSettings) -> (TestServer, TestForce, String) {
    let s = TestServer::start_with(Backend::Sqlite, settings)
        .await
        .expect("SQLite is never skipped");
    let force = s.add_force(FORCE_ID, FORCE_NAME).await;
    s.add_force("west-dale", "West Dale Constabulary").await;
    let token = s.token(FORCE_ID, "browser test").await;
    (s, force, token)
}

async fn get_json(s: &TestServer, path: &str, token: Option<&str>) -> Value {
    let mut req = s.http.get(s.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("GET");
    assert_eq!(res.status(), 200, "GET {path}");
    serde_json::from_slice(&res.bytes().await.unwrap()).expect("JSON")
}

pub(crate) async fn envelope(s: &TestServer, token: &str, id: &str) -> Vec<u8> {
    let res = s
        .http
        .get(s.url(&format!("/api/v1/inbox/{id}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.bytes().await.unwrap().to_vec()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Open a kind-1 envelope with the force's key and parse its payload.
pub(crate) fn open_report(force: &TestForce, env: &[u8]) -> Payload {
    let bytes = open(&force.private_key, Kind::Report, env).expect("the envelope opens");
    Payload::from_json(&bytes).expect("a v1 payload")
}

fn check_common(c: &Common) {
    check_common_in(c, "en");
}

/// The payload's common members, written in language `lang` (the page's).
fn check_common_in(c: &Common, lang: &str) {
    assert_eq!(c.v, 1);
    assert_eq!(c.lang, lang, "the payload carries the page's language");
    let t = c.sent_at.as_bytes();
    assert!(
        t.len() == 20 && t[4] == b'-' && t[10] == b'T' && c.sent_at.ends_with(":00Z"),
        "sent_at is RFC 3339 UTC to the minute: {}",
        c.sent_at
    );
}

/// The force's reply into slot `i` of the thread, as its console would send it.
async fn reply_into_slot(
    s: &TestServer,
    token: &str,
    material: &ReplyMaterial,
    i: u32,
    message: &str,
) {
    reply_into_slot_in(s, token, material, i, message, "en").await;
}

/// [`reply_into_slot`], the reply written in `lang`.
async fn reply_into_slot_in(
    s: &TestServer,
    token: &str,
    material: &ReplyMaterial,
    i: u32,
    message: &str,
    lang: &str,
) {
    let (reply_pk, _thread, slot_key) = material.decode().expect("reply material decodes");
    let slot = slot_key.address(i);
    let payload = Payload::Reply(Reply {
        common: Common {
            v: 1,
            sent_at: "2026-11-28T09:30:00Z".into(),
            lang: lang.into(),
        },
        from: FORCE_NAME.into(),
        force: None,
        message: message.into(),
    });
    let sealed = seal_reply(&mut rng(), slot, &reply_pk, &payload.to_json()).expect("seal reply");
    let res = s
        .http
        .put(s.url(&format!("/api/v1/slots/{}", hex::encode(slot))))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(sealed)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "PUT the reply into slot {i}");
}

/// A reply code made here, with the force's reply already in its slot 0: a
/// returning reporter's code, for the scripts that need a conversation.
async fn seeded_code(s: &TestServer, token: &str, message: &str) -> (Vec<String>, ReplyMaterial) {
    let code = ReplyCode::generate(&mut rng());
    let material = ReplyMaterial::from_secrets(&code.derive());
    reply_into_slot(s, token, &material, 0, message).await;
    let words = code.to_mnemonic().split(' ').map(str::to_owned).collect();
    (words, material)
}

/// The `Quietline-Pow` header a script reports for a request: it solves its
/// challenge, of at least `difficulty` bits, over exactly `envelope`.
/// Returns the challenge's difficulty.
fn check_pow(result: &Value, envelope: &[u8], difficulty: Option<u8>) -> u8 {
    use quietline_crypto::pow;
    let header = result["pow"]
        .as_str()
        .expect("the request's Quietline-Pow header");
    let s = pow::Solution::parse(header).expect("a well-formed Quietline-Pow header");
    let bits = s.challenge[1];
    if let Some(d) = difficulty {
        assert_eq!(bits, d, "the challenge's difficulty");
    }
    let digest = pow::digest(&s.challenge, &pow::envelope_hash(envelope), &s.work);
    assert!(
        pow::leading_zero_bits(&digest) >= u32::from(bits),
        "the work solves the challenge over the stored envelope: {}",
        hex::encode(digest)
    );
    bits
}

fn words_of(result: &Value) -> Vec<String> {
    let words: Vec<String> = result["words"]
        .as_array()
        .expect("words")
        .iter()
        .map(|w| w.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(words.len(), 12);
    words
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_report_reply_and_follow_up_end_to_end() {
    if !require_node_and_chromium() {
        return;
    }
    ensure_node_modules();
    let tmp = tempfile::tempdir().unwrap();
    // Proof of work as a real deployment has it by default.
    let pow = PowSettings::default();
    let (s, force, token) = server_with(ServerSettings {
        pow,
        ..test_settings()
    })
    .await;
    let challenge = get_json(&s, "/api/v1/challenge", None).await;
    assert_eq!(
        challenge["difficulty"],
        json!(pow.floor),
        "the server asks for its default floor"
    );
    let report_canary = canary("REPORT");
    let a = answers(&report_canary);
    let assets = get_json(&s, "/api/v1/assets", None).await["assets"].clone();

    // Phase A: the whole report through the page.
    let sent = e2e_ok(
        "journey.mjs",
        Some("report"),
        &s.base,
        &json!({ "answers": a.json, "assets": assets, "powDifficulty": pow.floor }),
        tmp.path(),
    )
    .await;
    let words = words_of(&sent);

    // The stored envelope is the request body, opaque, and opens to exactly
    // what was typed.
    let ids = inbox_ids(&s.http, &s.base, &token).await;
    assert_eq!(ids.len(), 1, "one report arrived");
    let env = envelope(&s, &token, &ids[0]).await;
    assert_eq!(
        hex::encode(Sha256::digest(&env)),
        sent["envelope_sha256"].as_str().unwrap(),
        "what is stored is what the page sent"
    );
    check_pow(&sent, &env, Some(pow.floor));
    for secret in [&report_canary, "Big Dave", "AB12 CDE", "Canal Street"] {
        assert!(
            !contains(&env, secret),
            "the envelope does not contain {secret:?}"
        );
    }
    let Payload::Report(report) = open_report(&force, &env) else {
        panic!("a report payload");
    };
    check_common(&report.common);
    assert_eq!(report.report, expected_report(&a));
    assert!(report.attachments.is_empty());
    // The reply material is what the 12 words on the confirmation derive.
    let code = ReplyCode::from_mnemonic(&words.join(" ")).expect("the words are a reply code");
    assert_eq!(
        report.reply,
        ReplyMaterial::from_secrets(&code.derive()),
        "the report carries the reply material of the code shown"
    );

    // The force answers into slot 0.
    let reply_text = format!(
        "Thank you. Which nights do the boxes arrive? {}",
        canary("REPLY")
    );
    reply_into_slot(&s, &token, &report.reply, 0, &reply_text).await;

    // Phase B: the returning reporter reads it and answers.
    let follow_canary = canary("FOLLOWUP");
    let follow = e2e_ok(
        "journey.mjs",
        Some("replies"),
        &s.base,
        &json!({
            "words": words,
            "forceName": FORCE_NAME,
            "replyFrom": FORCE_NAME,
            "replyText": reply_text,
            "reportDetails": a.details,
            "followUp": format!("{follow_canary}\nMostly Fridays, after 11pm."),
            "powDifficulty": pow.floor,
        }),
        tmp.path(),
    )
    .await;

    let ids2 = inbox_ids(&s.http, &s.base, &token).await;
    assert_eq!(ids2.len(), 2, "the follow-up arrived");
    let new_id = ids2.iter().find(|id| **id != ids[0]).unwrap();
    let env2 = envelope(&s, &token, new_id).await;
    assert_eq!(
        hex::encode(Sha256::digest(&env2)),
        follow["envelope_sha256"].as_str().unwrap()
    );
    check_pow(&follow, &env2, Some(pow.floor));
    assert_ne!(
        sent["pow"], follow["pow"],
        "each submission solves its own challenge"
    );
    assert!(!contains(&env2, &follow_canary));
    let Payload::FollowUp(f) = open_report(&force, &env2) else {
        panic!("a follow-up payload");
    };
    check_common(&f.common);
    assert_eq!(
        f.message,
        format!("{follow_canary}\nMostly Fridays, after 11pm.")
    );
    assert_eq!(
        f.reply.thread_id, report.reply.thread_id,
        "the follow-up is in the report's thread"
    );
    assert_eq!(f.reply, report.reply, "with the same reply material");

    // The page's own copies (crypto/FORMAT.md#own-copies): two in the
    // code's box, opaque, opening with the code to exactly what was sent,
    // numbered by the page and placed after the replies it had seen.
    let copies = s
        .storage
        .copies(quietline_crypto::copy::copy_box(&code))
        .await
        .unwrap();
    assert_eq!(copies.len(), 2, "a copy of the report and of the follow-up");
    for e in &copies {
        for secret in [&report_canary, &follow_canary] {
            assert!(!contains(e, secret), "a copy does not contain {secret:?}");
        }
    }
    let mut opened: Vec<quietline_crypto::copy::OwnCopy> = copies
        .iter()
        .map(|e| quietline_crypto::copy::open_copy(&code, e).expect("the code opens its copies"))
        .collect();
    opened.sort_by_key(|c| c.seq);
    assert_eq!((opened[0].seq, opened[0].after_replies), (0, 0));
    assert_eq!(opened[0].sent, Payload::Report(report.clone()));
    assert_eq!((opened[1].seq, opened[1].after_replies), (1, 1));
    assert_eq!(opened[1].sent, Payload::FollowUp(f.clone()));
    s.stop().await;
}

/// The whole journey in Welsh: a reporter who opens the page at `/?lang=cy`
/// answers every question in Welsh (Welsh choices, a Welsh check answers,
/// the reply code with Welsh instructions and its words in English), the
/// report says `lang: "cy"`; the force replies in Welsh and then in English;
/// the returning reporter reads both (the English one marked `lang="en"`
/// inside the Welsh page) and answers in Welsh, without choosing the force
/// again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_welsh_report_reply_and_follow_up_end_to_end() {
    if !require_node_and_chromium() {
        return;
    }
    ensure_node_modules();
    let tmp = tempfile::tempdir().unwrap();
    let (s, force, token) = server().await;
    let report_canary = canary("ADRODDIAD");
    let a = answers_in("cy", &report_canary);
    let assets = get_json(&s, "/api/v1/assets", None).await["assets"].clone();
    let sent = e2e_ok(
        "journey.mjs",
        Some("report"),
        &s.base,
        &json!({ "answers": a.json, "assets": assets }),
        tmp.path(),
    )
    .await;
    let words = words_of(&sent);
    let ids = inbox_ids(&s.http, &s.base, &token).await;
    assert_eq!(ids.len(), 1, "one report arrived");
    let env = envelope(&s, &token, &ids[0]).await;
    let Payload::Report(report) = open_report(&force, &env) else {
        panic!("a report payload");
    };
    check_common_in(&report.common, "cy");
    assert_eq!(
        report.report,
        expected_report(&a),
        "the same answers as in English"
    );

    let welsh_reply = format!(
        "Diolch. Pa nosweithiau mae’r bocsys yn cyrraedd? {}",
        canary("ATEB")
    );
    let english_reply = format!("Thank you, that helps. {}", canary("REPLY"));
    reply_into_slot_in(&s, &token, &report.reply, 0, &welsh_reply, "cy").await;
    reply_into_slot_in(&s, &token, &report.reply, 1, &english_reply, "en").await;

    let follow_canary = canary("DILYNOL");
    let follow_text = format!("{follow_canary}\nNos Wener fel arfer, ar ôl 11yh.");
    e2e_ok(
        "journey.mjs",
        Some("replies"),
        &s.base,
        &json!({
            "lang": "cy",
            "words": words,
            "forceName": FORCE_NAME,
            "replies": [
                { "from": FORCE_NAME, "text": welsh_reply, "lang": "cy" },
                { "from": FORCE_NAME, "text": english_reply, "lang": "en" },
            ],
            "reportDetails": a.details,
            "followUp": follow_text,
        }),
        tmp.path(),
    )
    .await;
    let ids2 = inbox_ids(&s.http, &s.base, &token).await;
    let new_id = ids2
        .iter()
        .find(|id| **id != ids[0])
        .expect("the follow-up arrived");
    let Payload::FollowUp(f) = open_report(&force, &envelope(&s, &token, new_id).await) else {
        panic!("a follow-up payload");
    };
    check_common_in(&f.common, "cy");
    assert_eq!(f.message, follow_text);
    assert_eq!(f.reply, report.reply, "in the report's thread");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_axe_finds_no_wcag_22_aa_violation_on_any_screen() {
    if !require_node_and_chromium() {
        return;
    }
    ensure_node_modules();
    let tmp = tempfile::tempdir().unwrap();
    let (s, _force, token) = server().await;
    let (words, _) = seeded_code(&s, &token, "A question from the force for the scan.").await;
    let a = answers(&canary("A11Y"));
    let cy = answers_in("cy", &canary("A11Y-CY"));
    let r = e2e_ok(
        "a11y.mjs",
        None,
        &s.base,
        &json!({ "answers": a.json, "answersCy": cy.json, "words": words, "forceName": FORCE_NAME }),
        tmp.path(),
    )
    .await;
    let screens: Vec<&str> = r["screens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    println!("scanned {} screens: {screens:#?}", screens.len());
    for needed in [
        "start",
        "force",
        "force: error",
        "what",
        "what: errors",
        "where-when (both answers opened)",
        "where and when: errors",
        "people and vehicles (one of each)",
        "how",
        "check your answers",
        "waiting to send (proof of work)",
        "check your answers: sending cancelled",
        "report sent (the reply code)",
        "code",
        "code: error",
        "replies (one reply)",
        "follow-up: errors",
        "follow-up sent",
        "no JavaScript",
        "type two words of the reply code",
        "type two words: errors",
        "reply code written down",
        "follow-up: choosing another force",
        "cy: start",
        "cy: what: errors",
        "cy: what: domestic abuse, with where to get help",
        "cy: where-when (both answers opened)",
        "cy: check your answers",
        "cy: code",
        "cy: replies (an English reply in a Welsh page)",
        "en: staying safe online",
        "cy: staying safe online",
        "cy: no JavaScript",
    ] {
        assert!(screens.contains(&needed), "{needed} was scanned");
    }
    assert!(
        r["rules_passed"].as_u64().unwrap() > 20,
        "axe ran its rules: {r}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_keyboard_only_journey() {
    if !require_node_and_chromium() {
        return;
    }
    ensure_node_modules();
    let tmp = tempfile::tempdir().unwrap();
    // One force, so it is the first radio; the keyboard script answers every
    // radio question with its first option.
    let s = TestServer::start(Backend::Sqlite).await.unwrap();
    let force = s.add_force(FORCE_ID, FORCE_NAME).await;
    let token = s.token(FORCE_ID, "browser test").await;
    let reply_text = "Can you tell us more about the van?";
    let (words, material) = seeded_code(&s, &token, reply_text).await;
    let details = canary("KEYBOARD");
    let follow_up = canary("KEYBOARD-FOLLOWUP");
    let a = answers(&details);
    let r = e2e_ok(
        "keyboard.mjs",
        None,
        &s.base,
        &json!({
            "answers": a.json,
            "words": words,
            "forceName": FORCE_NAME,
            "replyText": reply_text,
            "followUp": follow_up,
        }),
        tmp.path(),
    )
    .await;
    words_of(&r);

    // Both arrived and open: the report with the first answer of each radio
    // question, the follow-up in the seeded code's thread.
    let ids = inbox_ids(&s.http, &s.base, &token).await;
    assert_eq!(ids.len(), 2);
    let mut kinds = Vec::new();
    for id in &ids {
        match open_report(&force, &envelope(&s, &token, id).await) {
            Payload::Report(rep) => {
                assert_eq!(rep.report.category, "drugs");
                assert_eq!(rep.report.details, a.details);
                assert_eq!(rep.report.how_known, "saw");
                assert_eq!(rep.report.people.len(), 1);
                assert_eq!(rep.report.vehicles.len(), 1);
                kinds.push("report");
            }
            Payload::FollowUp(f) => {
                assert_eq!(f.message, follow_up);
                assert_eq!(f.reply, material);
                kinds.push("follow-up");
            }
            Payload::Reply(_) => panic!("a reply in the inbox"),
        }
    }
    kinds.sort();
    assert_eq!(kinds, ["follow-up", "report"]);
    println!("keyboard journey: {} focus stops", r["stops"]);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_without_javascript_explains_and_sends_nothing() {
    if !require_node_and_chromium() {
        return;
    }
    ensure_node_modules();
    let tmp = tempfile::tempdir().unwrap();
    let (s, _force, token) = server().await;
    let r = e2e_ok("nojs.mjs", None, &s.base, &json!({}), tmp.path()).await;
    let requests = r["requests"].as_array().unwrap();
    let page = format!("GET {}/", s.base);
    assert!(
        requests.iter().any(|q| q.as_str() == Some(page.as_str())),
        "the page was loaded: {requests:?}"
    );
    assert!(
        inbox_ids(&s.http, &s.base, &token).await.is_empty(),
        "nothing was sent"
    );
    assert!(
        s.storage
            .inbox(FORCE_ID, None, 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing was stored"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_error_summary_is_focused_links_to_fields_and_keeps_values() {
    if !require_node_and_chromium() {
        return;
    }
    ensure_node_modules();
    let tmp = tempfile::tempdir().unwrap();
    let (s, _force, token) = server().await;
    let r = e2e_ok(
        "errors.mjs",
        None,
        &s.base,
        &json!({ "forceName": FORCE_NAME, "details": "What I typed before the error" }),
        tmp.path(),
    )
    .await;
    assert_eq!(r["checked"].as_array().unwrap().len(), 4, "{r}");
    assert!(inbox_ids(&s.http, &s.base, &token).await.is_empty());
    s.stop().await;
}

/// "English | Cymraeg" with JavaScript keeps the step, everything typed and
/// the choices made, redoes the errors shown in the new words, and moves
/// `<html lang>` and the address; the replies page switches too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_language_switch_keeps_place_and_answers() {
    if !require_node_and_chromium() {
        return;
    }
    ensure_node_modules();
    let tmp = tempfile::tempdir().unwrap();
    let (s, _force, token) = server().await;
    let (words, _) = seeded_code(&s, &token, "Diolch am eich adroddiad.").await;
    let r = e2e_ok(
        "language.mjs",
        None,
        &s.base,
        &json!({ "forceName": FORCE_NAME, "words": words }),
        tmp.path(),
    )
    .await;
    assert_eq!(r["switched"], json!(4), "{r}");
    assert!(
        inbox_ids(&s.http, &s.base, &token).await.is_empty(),
        "switching sends nothing"
    );
    s.stop().await;
}

/// On a phone's screen (390 × 844), in both languages: the start page's
/// buttons on the first screen, the whole reply code on one screen, a reload
/// with answers typed asks first, and nothing is stored on the device.
/// `QUIETLINE_SCREENSHOTS=DIR` also saves the Welsh screens there
/// (docs/screenshots/ holds a set).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_phone_screen_start_buttons_reply_code_and_reload_warning() {
    if !require_node_and_chromium() {
        return;
    }
    ensure_node_modules();
    let tmp = tempfile::tempdir().unwrap();
    let (s, _force, _token) = server().await;
    let mut input = json!({
        "answers": answers(&canary("PHONE")).json,
        "answersCy": answers_in("cy", &canary("FFON")).json,
    });
    if let Ok(dir) = std::env::var("QUIETLINE_SCREENSHOTS") {
        input["screenshots"] = json!(dir);
    }
    let r = e2e_ok("phone.mjs", None, &s.base, &input, tmp.path()).await;
    assert_eq!(
        r["checked"],
        json!([
            "en: start buttons on the first screen",
            "en: beforeunload, nothing stored",
            "en: reply code on one screen",
            "cy: start buttons on the first screen",
            "cy: beforeunload, nothing stored",
            "cy: reply code on one screen",
        ])
    );
    s.stop().await;
}

/// Another website on 127.0.0.1: `/weather` (a neutral site) and `/search`
/// (where a reporter might come from), each a page titled so. Returns its
/// base URL; it runs until the test ends.
async fn other_sites() -> String {
    use axum::response::Html;
    use axum::routing::get;
    let page = |title: &'static str| {
        get(move || async move {
            Html(format!(
                "<!doctype html><html lang=\"en\"><title>{title}</title><h1>{title}</h1></html>"
            ))
        })
    };
    let app = axum::Router::new()
        .route("/weather", page("Weather"))
        .route("/search", page("Search results"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        use hyper_util::rt::TokioIo;
        use hyper_util::service::TowerToHyperService;
        while let Ok((stream, _)) = listener.accept().await {
            let service = TowerToHyperService::new(app.clone());
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_exit_this_page_clears_everything_typed() {
    if !require_node_and_chromium() {
        return;
    }
    ensure_node_modules();
    let tmp = tempfile::tempdir().unwrap();
    // Two other sites on loopback (nothing else resolves in the browser): the
    // one the reporter came from, and the neutral one Exit goes to, as the
    // server's exit URL.
    let other = other_sites().await;
    let (s, _force, token) = server_with(ServerSettings {
        exit_url: format!("{other}/weather"),
        ..test_settings()
    })
    .await;
    let r = e2e_ok(
        "exit.mjs",
        None,
        &s.base,
        &json!({
            "forceName": FORCE_NAME,
            "canary": canary("EXIT"),
            "neutral": format!("{other}/weather"),
            "before": format!("{other}/search"),
        }),
        tmp.path(),
    )
    .await;
    assert_eq!(r["ways"], json!(["button", "shift x3", "button (cy)"]));
    assert!(
        inbox_ids(&s.http, &s.base, &token).await.is_empty(),
        "nothing was sent"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_waiting_screen_shows_progress_and_cancel_sends_nothing() {
    if !require_node_and_chromium() {
        return;
    }
    ensure_node_modules();
    let tmp = tempfile::tempdir().unwrap();
    let (s, force, token) = server().await;
    let a = answers(&canary("WAITING"));
    // The script checks the waiting screen, cancels, and sees the inbox empty
    // (through the API, with the token); then has the page send with a 429
    // for the proof stood in for, twice (an error) and once (a retry).
    let r = e2e_ok(
        "waiting.mjs",
        None,
        &s.base,
        &json!({ "answers": a.json, "token": token }),
        tmp.path(),
    )
    .await;
    words_of(&r);

    // Only the last send arrived: once, whole, with its proof of work.
    let ids = inbox_ids(&s.http, &s.base, &token).await;
    assert_eq!(ids.len(), 1, "one report, from the last send only");
    let env = envelope(&s, &token, &ids[0]).await;
    assert_eq!(
        hex::encode(Sha256::digest(&env)),
        r["envelope_sha256"].as_str().unwrap()
    );
    check_pow(&r, &env, None);
    let Payload::Report(report) = open_report(&force, &env) else {
        panic!("a report payload");
    };
    assert_eq!(report.report, expected_report(&a));
    s.stop().await;
}

/// The reply code's word list is fetched only when needed (`/words.js`, out
/// of the first load): offline at that moment, the page says so, keeps the
/// typed words or answers, sends nothing, and the retry works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_word_list_offline_says_so_keeps_answers_and_sends_nothing() {
    if !require_node_and_chromium() {
        return;
    }
    ensure_node_modules();
    let tmp = tempfile::tempdir().unwrap();
    let (s, force, token) = server().await;
    let (words, _) = seeded_code(&s, &token, "A question for the offline check.").await;
    let a = answers(&canary("OFFLINE"));
    let r = e2e_ok(
        "offline.mjs",
        None,
        &s.base,
        &json!({ "answers": a.json, "words": words }),
        tmp.path(),
    )
    .await;
    words_of(&r);
    // Only the send made once the word list could be fetched arrived.
    let ids = inbox_ids(&s.http, &s.base, &token).await;
    assert_eq!(ids.len(), 1, "one report, from the second send only");
    let Payload::Report(report) = open_report(&force, &envelope(&s, &token, &ids[0]).await) else {
        panic!("a report payload");
    };
    check_common(&report.common);
    s.stop().await;
}

/// Issue 17, through the page: a report sent to one force (North Shire) that
/// the force passes on to another (West Dale) is answered by both on the
/// same 12 words. The first force's desk is played here with the crypto
/// crate (the server crate does not depend on the console library; the
/// library's transfer itself is tested in casework and console): it opens
/// the report, re-seals it with the transfer note
/// (crypto/FORMAT.md#transfer-note) to the second force's key and submits
/// it through the public intake with its proof of work. The second force's
/// reply names its force; the returning reporter's page shows each reply
/// under the force that sent it, and offers the follow-up to the force that
/// answered last, where it arrives on the same thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_transfer_reply() {
    if !require_node_and_chromium() {
        return;
    }
    ensure_node_modules();
    let tmp = tempfile::tempdir().unwrap();
    const WEST_ID: &str = "west-dale";
    const WEST_NAME: &str = "West Dale Constabulary";
    let s = TestServer::start_with(Backend::Sqlite, test_settings())
        .await
        .expect("SQLite is never skipped");
    let force = s.add_force(FORCE_ID, FORCE_NAME).await;
    let west = s.add_force(WEST_ID, WEST_NAME).await;
    let token = s.token(FORCE_ID, "browser test").await;
    let west_token = s.token(WEST_ID, "browser test").await;
    let a = answers(&canary("REPORT"));
    let assets = get_json(&s, "/api/v1/assets", None).await["assets"].clone();
    let sent = e2e_ok(
        "journey.mjs",
        Some("report"),
        &s.base,
        &json!({ "answers": a.json, "assets": assets }),
        tmp.path(),
    )
    .await;
    let words = words_of(&sent);
    let ids = inbox_ids(&s.http, &s.base, &token).await;
    let Payload::Report(mut report) = open_report(&force, &envelope(&s, &token, &ids[0]).await)
    else {
        panic!("a report payload");
    };
    // North Shire answers first, then passes the case on.
    let north_text = "Thank you. We are passing this to the force for that area.";
    reply_into_slot(&s, &token, &report.reply, 0, north_text).await;
    let material = report.reply.clone();
    report.transfer = Some(quietline_crypto::payload::TransferNote {
        v: quietline_crypto::payload::TRANSFER_VERSION,
        from_force: FORCE_ID.into(),
        from_name: FORCE_NAME.into(),
        case: ids[0].clone(),
        thread_id: material.thread_id.clone(),
        grading: None,
        reason: "It happened in West Dale".into(),
        day: "2026-12-07".into(),
        by: "sam".into(),
        next_slot: 1,
    });
    let passed_on = Payload::Report(report.clone()).to_json();
    s.submit(
        quietline_crypto::seal::seal_report(&mut rng(), WEST_ID, &west.public_key, &passed_on)
            .unwrap(),
    )
    .await;
    let west_ids = inbox_ids(&s.http, &s.base, &west_token).await;
    assert_eq!(west_ids.len(), 1, "West Dale holds the passed-on report");
    let Payload::Report(theirs) =
        open_report(&west, &envelope(&s, &west_token, &west_ids[0]).await)
    else {
        panic!("a report payload");
    };
    assert_eq!(theirs.reply, material, "the reporter's own reply material");
    assert_eq!(theirs.transfer.as_ref().unwrap().from_name, FORCE_NAME);

    // West Dale answers on the same thread, in the next slot, naming itself.
    let (reply_pk, _, slot_key) = material.decode().unwrap();
    let west_text = "West Dale here: which nights are the busiest?";
    let payload = Payload::Reply(Reply {
        common: Common {
            v: 1,
            sent_at: "2026-12-07T09:30:00Z".into(),
            lang: "en".into(),
        },
        from: WEST_NAME.into(),
        force: Some(WEST_ID.into()),
        message: west_text.into(),
    });
    let slot = slot_key.address(1);
    let res = s
        .http
        .put(s.url(&format!("/api/v1/slots/{}", hex::encode(slot))))
        .bearer_auth(&west_token)
        .header("content-type", "application/octet-stream")
        .body(seal_reply(&mut rng(), slot, &reply_pk, &payload.to_json()).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    // The reporter reads both with the same words, each under its force, and
    // the follow-up goes to West Dale.
    let follow_text = "Fridays, mostly after 11pm.";
    e2e_ok(
        "journey.mjs",
        Some("replies"),
        &s.base,
        &json!({
            "words": words,
            "forceName": WEST_NAME,
            "replies": [
                { "from": FORCE_NAME, "text": north_text, "lang": "en" },
                { "from": WEST_NAME, "text": west_text, "lang": "en" },
            ],
            "reportDetails": a.details,
            "followUp": follow_text,
        }),
        tmp.path(),
    )
    .await;
    let west_ids = inbox_ids(&s.http, &s.base, &west_token).await;
    assert_eq!(west_ids.len(), 2, "the follow-up went to West Dale");
    assert_eq!(inbox_ids(&s.http, &s.base, &token).await.len(), 1);
    let mut found = false;
    for id in &west_ids {
        if let Payload::FollowUp(f) = open_report(&west, &envelope(&s, &west_token, id).await) {
            assert_eq!(f.message, follow_text);
            assert_eq!(f.reply, material, "on the same thread");
            found = true;
        }
    }
    assert!(found, "a follow-up in West Dale's inbox");
    s.stop().await;
}
