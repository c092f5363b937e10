//! The work pages over HTTP: a desk in-process ([`TestDesk`]) pulling from a
//! REAL intake server in-process (the test kit's, SQLite), with reports
//! sealed to the test force's key by reporters who keep their reply
//! secrets, so a reply is checked where the reporter would read it: in the
//! server's slot, opened with the reporter's key.
//!
//! Covered: the queue shows pulled reports, with counts and filters; search
//! by a vehicle registration; take and assign seen from a second session;
//! a reply reaches the slot, after a preview of exactly its text; the race
//! (two sessions reply, exactly one is stored, the second sees the first and
//! chooses); a follow-up re-opens the case; export needs a reason; bulk
//! close of a whole view; the audit and pull pages are for supervisors.

use quietline_casework::desk::Role;
use quietline_casework::keyring;
use quietline_crypto::envelope::Kind;
use quietline_crypto::keys::PublicKey;
use quietline_crypto::payload::Payload;
use quietline_crypto::reply_code::{ReplyCode, ReplySecrets};
use quietline_testkit::payloads::{self, ReportFields};
use quietline_testkit::server::{Backend, TestServer, rng};

use crate::support::*;

/// A desk whose home points at a real intake server serving its force.
pub struct Work {
    pub td: TestDesk,
    pub server: TestServer,
    pub pk: PublicKey,
}

impl Work {
    pub async fn start() -> Work {
        Work::on(TestDesk::start().await).await
    }

    /// `td`, pointed at a new intake server serving its force.
    pub async fn on(td: TestDesk) -> Work {
        let server = TestServer::start(Backend::Sqlite)
            .await
            .expect("SQLite is never skipped");
        let (_, info) = keyring::list_keys(&td.home.keys_dir()).unwrap().remove(0);
        quietline::admin::add_force(server.storage.as_ref(), FORCE_ID, FORCE_NAME)
            .await
            .unwrap();
        quietline::admin::add_force_key(server.storage.as_ref(), FORCE_ID, &info.public_key)
            .await
            .unwrap();
        let w = Work {
            td,
            server,
            pk: info.public_key,
        };
        w.connect(&w.td).await;
        w
    }

    /// Point another desk's home at this server, with a token of its own.
    pub async fn connect(&self, td: &TestDesk) {
        // A label of its own per desk (the server refuses a label twice).
        let label = format!("desk {}", td.base.rsplit(':').next().unwrap_or_default());
        let token = self.server.token(FORCE_ID, &label).await;
        let mut config = td.home.load_config().unwrap();
        config.server = Some(self.server.base.clone());
        config.token = Some(token);
        td.home.save_config(&config).unwrap();
    }

    /// Seal `payload` to the force and submit it to the server; its id.
    pub async fn submit(&self, payload: &Payload) -> String {
        let env =
            quietline_crypto::seal::seal_report(&mut rng(), FORCE_ID, &self.pk, &payload.to_json())
                .unwrap();
        self.server.submit(env).await
    }

    /// What the reporter finds in slot `i` of their thread: the reply's
    /// message, opened with their key, or `None` for an empty slot.
    pub async fn slot(&self, reporter: &Reporter, i: u32) -> Option<String> {
        let address = reporter.secrets.slot_key.address(i);
        let res = self
            .server
            .http
            .get(
                self.server
                    .url(&format!("/api/v1/slots/{}", hex::encode(address))),
            )
            .send()
            .await
            .unwrap();
        match res.status().as_u16() {
            404 => None,
            200 => {
                let bytes = res.bytes().await.unwrap();
                let plain =
                    quietline_crypto::open::open(&reporter.secrets.reply_sk, Kind::Reply, &bytes)
                        .expect("the reply opens with the reporter's key");
                match Payload::from_json(&plain).unwrap() {
                    Payload::Reply(r) => Some(r.message),
                    other => panic!("not a reply: {other:?}"),
                }
            }
            s => panic!("GET slot: {s}"),
        }
    }

    pub async fn stop(self) {
        self.td.stop().await;
        self.server.stop().await;
    }
}

/// A reporter: their reply secrets, and the payloads they send.
pub struct Reporter {
    pub secrets: ReplySecrets,
}

impl Reporter {
    pub fn new() -> Reporter {
        Reporter {
            secrets: ReplyCode::generate(&mut rng()).derive(),
        }
    }

    pub fn report(&self, lang: &str, category: &str, details: &str, registration: &str) -> Payload {
        payloads::report(
            &self.secrets,
            ReportFields {
                sent_at: "2026-12-06T19:45:00Z".into(),
                lang: lang.into(),
                category: category.into(),
                details: details.into(),
                date: "2026-12-05".into(),
                person: "Big Dave".into(),
                registration: registration.into(),
                vehicle_description: String::new(),
            },
        )
    }

    /// A follow-up whose reporter's clock reads a week before the report.
    pub fn follow_up(&self, message: &str) -> Payload {
        payloads::follow_up(&self.secrets, "2026-11-29T08:00:00Z", message)
    }
}

/// The case ids linked from a queue page, in the table's order.
pub fn case_links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("href=\"/cases/") {
        rest = &rest[i + "href=\"/cases/".len()..];
        let end = rest.find('"').unwrap();
        let id = &rest[..end];
        if id.len() == 32 && !out.contains(&id.to_owned()) {
            out.push(id.to_owned());
        }
    }
    out
}

/// Pull as `b` (any handler may), checking the queue says how many came.
pub async fn pull(b: &mut Browser, new: usize) {
    let csrf = b.get("/").await.csrf();
    let r = b.post("/pull", &[("csrf", &csrf)]).await;
    r.assert_see_other(&format!("/?pulled={new}"));
    let page = b.get(&format!("/?pulled={new}")).await;
    assert_eq!(page.status, 200);
    let words = match new {
        0 => "Pulled: no new reports.".to_owned(),
        1 => "Pulled: 1 new report.".to_owned(),
        n => format!("Pulled: {n} new reports."),
    };
    assert!(page.body.contains(&words), "{}", page.body);
}

#[tokio::test]
async fn the_queue_shows_pulled_reports_with_counts_and_filters_narrow_it() {
    let w = Work::start().await;
    let (a, b, c) = (Reporter::new(), Reporter::new(), Reporter::new());
    w.submit(&a.report(
        "en",
        "drugs",
        "Dealing from the silver car every night",
        "AB12 CDE",
    ))
    .await;
    w.submit(&b.report("cy", "theft", "Beiciau wedi eu dwyn o'r sied", "CY70 ABC"))
        .await;
    w.submit(&c.report(
        "en",
        "fraud",
        "Fake invoices sent to the care home",
        "XY19 ZZZ",
    ))
    .await;
    let (mut ann, _, _) = signed_in(&w.td, "ann", Role::Handler).await;

    // Before a pull the desk has nothing.
    let page = ann.get("/").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("0 cases"), "{}", page.body);
    pull(&mut ann, 3).await;

    let page = ann.get("/").await;
    assert_eq!(case_links(&page.body).len(), 3, "{}", page.body);
    assert!(
        page.body
            .contains("New and unassigned <span class=\"desk-count\">(3)</span>")
    );
    assert!(
        page.body
            .contains("Mine <span class=\"desk-count\">(0)</span>")
    );
    assert!(
        page.body
            .contains("Dealing from the silver car every night")
    );
    assert!(page.body.contains("data-module=\"moj-sortable-table\""));
    assert!(page.body.contains("Unread"), "every case is unread by ann");
    // Handlers get no bulk bar (the library's rule: supervisors act in bulk).
    assert!(!page.body.contains("action=\"/bulk\""));

    // Filters are a GET form: a view is a URL.
    let page = ann.get("/?category=theft").await;
    assert_eq!(case_links(&page.body).len(), 1);
    assert!(page.body.contains("Beiciau wedi eu dwyn"));
    assert!(
        page.body.contains("Category: Theft or stolen goods"),
        "the filter is listed as on, in the reporter's words"
    );
    // Categories are shown in the words the reporter saw, never the codes.
    let all = ann.get("/?view=all").await;
    for words in ["Drugs", "Theft or stolen goods", "Fraud or scams"] {
        assert!(
            all.body
                .contains(&format!("<td class=\"govuk-table__cell\">{words}</td>")),
            "{words}: {}",
            all.body
        );
    }
    assert!(
        !all.body
            .contains("<td class=\"govuk-table__cell\">drugs</td>")
    );
    assert!(
        all.body.contains(">Fraud or scams</label>"),
        "the filter's options in words too"
    );
    let page = ann.get("/?language=en").await;
    assert_eq!(case_links(&page.body).len(), 2);
    let page = ann
        .get("/?language=en&category=fraud&category=drugs&sort=received&dir=asc")
        .await;
    assert_eq!(case_links(&page.body).len(), 2);
    let page = ann.get("/?priority=high").await;
    assert_eq!(case_links(&page.body).len(), 0);
    assert!(page.body.contains("No case matches"));
    let page = ann.get("/?view=all&status=closed").await;
    assert_eq!(case_links(&page.body).len(), 0);
    let page = ann.get("/?view=all&assignee=(nobody)&flagged=no").await;
    assert_eq!(case_links(&page.body).len(), 3);

    // A wrong day is an error beside its field, and the other filters still apply.
    let page = ann.get("/?from=yesterday&category=theft").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("govuk-error-summary"));
    assert!(page.body.contains("href=\"#from\""));
    assert!(page.body.contains("<title>Error: "));
    assert_eq!(case_links(&page.body).len(), 1);

    w.stop().await;
}

#[tokio::test]
async fn search_finds_a_case_by_a_vehicle_registration_in_any_case() {
    let w = Work::start().await;
    let (a, b) = (Reporter::new(), Reporter::new());
    w.submit(&a.report("en", "drugs", "Dealing from a car", "AB12 CDE"))
        .await;
    w.submit(&b.report("en", "drugs", "Dealing from a van", "GH34 JKL"))
        .await;
    let (mut ann, _, _) = signed_in(&w.td, "ann", Role::Handler).await;
    pull(&mut ann, 2).await;

    let page = ann.get("/search").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("<label class=\"govuk-label govuk-label--s\" for=\"q\">")
    );
    assert!(
        case_links(&page.body).is_empty(),
        "no table before a search"
    );

    for q in ["ab12 cde", "AB12", "gh34 jkl"] {
        let page = ann.get(&format!("/search?q={}", q.replace(' ', "+"))).await;
        assert_eq!(page.status, 200);
        assert_eq!(case_links(&page.body).len(), 1, "{q}: {}", page.body);
    }
    let page = ann.get("/search?q=AB12+CDE").await;
    assert!(page.body.contains("Dealing from a car"));
    assert!(!page.body.contains("Dealing from a van"));
    let page = ann.get("/search?q=big+dave").await;
    assert_eq!(case_links(&page.body).len(), 2, "names are searched");
    let page = ann.get("/search?q=nowhere").await;
    assert!(case_links(&page.body).is_empty());
    w.stop().await;
}

#[tokio::test]
async fn take_and_assign_are_seen_from_a_second_session() {
    let w = Work::start().await;
    let r = Reporter::new();
    w.submit(&r.report("en", "drugs", "Dealing from a car", "AB12 CDE"))
        .await;
    let (mut ann, _, _) = signed_in(&w.td, "ann", Role::Handler).await;
    let (mut bob, _, _) = signed_in(&w.td, "bob", Role::Handler).await;
    let (mut sue, _, _) = signed_in(&w.td, "sue", Role::Supervisor).await;
    pull(&mut ann, 1).await;
    let id = case_links(&ann.get("/").await.body).remove(0);

    let case = ann.get(&format!("/cases/{id}")).await;
    assert_eq!(case.status, 200);
    assert!(case.body.contains("Dealing from a car"));
    assert!(case.body.contains("AB12 CDE"));
    assert!(case.body.contains("Take it"));
    let r = ann
        .post(&format!("/cases/{id}/take"), &[("csrf", &case.csrf())])
        .await;
    r.assert_see_other(&format!("/cases/{id}?done=taken"));
    let case = ann.get(&format!("/cases/{id}?done=taken")).await;
    assert!(case.body.contains("The case is yours."));
    assert!(
        case.body
            .contains("<dd class=\"govuk-summary-list__value\" id=\"assignee\">ann</dd>")
    );
    assert!(case.body.contains("Assigned to ann"), "the timeline has it");

    // Bob's session sees it assigned: out of "new and unassigned", in "all".
    let page = bob.get("/").await;
    assert!(case_links(&page.body).is_empty(), "{}", page.body);
    let page = bob.get("/?view=all").await;
    assert_eq!(case_links(&page.body), vec![id.clone()]);
    assert!(
        page.body
            .contains("<td class=\"govuk-table__cell\">ann</td>")
    );
    assert!(page.body.contains("Seen by ann"));
    let page = ann.get("/?view=mine").await;
    assert_eq!(case_links(&page.body), vec![id.clone()]);

    // A handler may not assign to someone else; a supervisor may.
    let case = bob.get(&format!("/cases/{id}")).await;
    assert!(
        !case.body.contains("id=\"assign-to\""),
        "no assign form for a handler"
    );
    let r = bob
        .post(
            &format!("/cases/{id}/assign"),
            &[("csrf", &case.csrf()), ("to", "carl")],
        )
        .await;
    assert_eq!(r.status, 403, "{r:?}");
    let case = sue.get(&format!("/cases/{id}")).await;
    assert!(case.body.contains("id=\"assign-to\""));
    // A list of the active accounts (MOJ/GOV.UK select), the assignee chosen.
    assert!(
        case.body
            .contains("<select class=\"govuk-select\" id=\"assign-to\" name=\"to\""),
        "{}",
        case.body
    );
    for option in [
        "<option value=\"\">Nobody</option>",
        "<option value=\"ann\" selected>ann (handler)</option>",
        "<option value=\"bob\">bob (handler)</option>",
        "<option value=\"sue\">sue (supervisor)</option>",
    ] {
        assert!(case.body.contains(option), "{option}: {}", case.body);
    }
    // A name not in the list (typed by hand, or disabled since) is refused
    // beside the list, and nothing changes.
    let r = sue
        .post(
            &format!("/cases/{id}/assign"),
            &[("csrf", &case.csrf()), ("to", "carl")],
        )
        .await;
    assert_eq!(r.status, 400, "{r:?}");
    assert!(
        r.body
            .contains("No active account has that name: choose an account from the list")
            && !r.body.contains("carl"),
        "{}",
        r.body
    );
    assert!(r.body.contains("href=\"#assign-to\""));
    let r = sue
        .post(
            &format!("/cases/{id}/assign"),
            &[("csrf", &case.csrf()), ("to", "bob")],
        )
        .await;
    r.assert_see_other(&format!("/cases/{id}?done=assigned"));
    let page = bob.get("/?view=mine").await;
    assert_eq!(case_links(&page.body), vec![id.clone()]);
    assert!(
        page.body
            .contains("Mine <span class=\"desk-count\">(1)</span>")
    );
    let case = bob.get(&format!("/cases/{id}")).await;
    let (first, second) = (
        case.body.find("Assigned to ann").unwrap(),
        case.body.find("Assigned to bob").unwrap(),
    );
    assert!(first < second, "the history in the order it happened");
    assert!(case.body.contains("by sue"));

    // Status, priority, labels, mute, note: each shown back on the case.
    let csrf = case.csrf();
    let path = |p: &str| format!("/cases/{id}/{p}");
    bob.post(&path("status"), &[("csrf", &csrf), ("status", "triaged")])
        .await
        .assert_see_other(&format!("/cases/{id}?done=status"));
    bob.post(&path("priority"), &[("csrf", &csrf), ("priority", "high")])
        .await
        .assert_see_other(&format!("/cases/{id}?done=priority"));
    bob.post(&path("labels"), &[("csrf", &csrf), ("add", "county lines")])
        .await
        .assert_see_other(&format!("/cases/{id}?done=labels"));
    bob.post(
        &path("note"),
        &[
            ("csrf", &csrf),
            ("note", "Matches the PNC entry\nfrom last week"),
        ],
    )
    .await
    .assert_see_other(&format!("/cases/{id}?done=note#timeline"));
    let r = bob
        .post(&path("note"), &[("csrf", &csrf), ("note", "   ")])
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("href=\"#note\""),
        "the error links to the note box"
    );
    let r = bob
        .post(&path("status"), &[("csrf", &csrf), ("status", "sideways")])
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("href=\"#status\""));
    let case = bob.get(&format!("/cases/{id}")).await;
    assert!(case.body.contains("Status set to Triaged"));
    assert!(case.body.contains("Priority set to High"));
    assert!(case.body.contains("Labels added county lines"));
    assert!(
        case.body
            .contains("Matches the PNC entry<br>from last week")
    );
    let page = ann
        .get("/?view=all&label=county+lines&priority=high&status=triaged")
        .await;
    assert_eq!(case_links(&page.body), vec![id.clone()]);

    // Mark unread: back to the queue, and the case is unread for bob again.
    let r = bob.post(&path("unread"), &[("csrf", &csrf)]).await;
    r.assert_see_other("/");
    let page = bob.get("/?view=mine").await;
    assert!(
        page.body.contains("govuk-tag--pink\">Unread"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("<span class=\"desk-unread\">1 unread</span>")
    );
    w.stop().await;
}

#[tokio::test]
async fn a_reply_is_previewed_then_reaches_the_reporters_slot() {
    let w = Work::start().await;
    let r = Reporter::new();
    w.submit(&r.report("cy", "drugs", "Gwerthu cyffuriau", "AB12 CDE"))
        .await;
    let (mut ann, _, _) = signed_in(&w.td, "ann", Role::Handler).await;
    pull(&mut ann, 1).await;
    let id = case_links(&ann.get("/").await.body).remove(0);

    // A Welsh report: Welsh chosen by default, Welsh templates first.
    let case = ann.get(&format!("/cases/{id}")).await;
    assert!(
        case.body
            .contains("id=\"reply-lang-cy\" name=\"lang\" type=\"radio\" value=\"cy\" checked"),
        "{}",
        case.body
    );
    let form = ann.get(&format!("/cases/{id}/reply?template=0")).await;
    assert_eq!(form.status, 200);
    assert!(
        form.body.contains("Diolch"),
        "the first template is Welsh: {}",
        form.body
    );

    let text = "Diolch. Thank you — we have passed this on.\nPlease tell us more.";
    let csrf = case.csrf();
    let p = ann
        .post(
            &format!("/cases/{id}/reply"),
            &[
                ("csrf", &csrf),
                ("seen", "0"),
                ("lang", "cy"),
                ("step", "preview"),
                ("text", &text.replace('\n', "\r\n")),
            ],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("Check your reply"));
    assert!(p.body.contains("Message from North Shire Police"));
    assert!(
        p.body
            .contains("Diolch. Thank you — we have passed this on.<br>Please tell us more.")
    );
    assert_eq!(w.slot(&r, 0).await, None, "a preview sends nothing");

    // "Change reply" keeps the text.
    let e = ann
        .post(
            &format!("/cases/{id}/reply"),
            &[
                ("csrf", &csrf),
                ("seen", "0"),
                ("lang", "cy"),
                ("step", "edit"),
                ("text", text),
            ],
        )
        .await;
    assert!(
        e.body.contains("Please tell us more.</textarea>"),
        "{}",
        e.body
    );

    // An empty reply is an error beside the box.
    let e = ann
        .post(
            &format!("/cases/{id}/reply"),
            &[
                ("csrf", &csrf),
                ("seen", "0"),
                ("lang", "en"),
                ("step", "preview"),
                ("text", "  "),
            ],
        )
        .await;
    assert_eq!(e.status, 400);
    assert!(e.body.contains("href=\"#reply-text\""), "{}", e.body);

    let s = ann
        .post(
            &format!("/cases/{id}/reply"),
            &[
                ("csrf", &csrf),
                ("seen", "0"),
                ("lang", "cy"),
                ("step", "send"),
                ("text", text),
            ],
        )
        .await;
    s.assert_see_other(&format!("/cases/{id}?done=replied#timeline"));
    assert_eq!(
        w.slot(&r, 0).await.as_deref(),
        Some(text),
        "exactly the previewed text"
    );
    assert_eq!(w.slot(&r, 1).await, None);
    let case = ann.get(&format!("/cases/{id}?done=replied")).await;
    assert!(case.body.contains("Your reply was sent."));
    assert!(case.body.contains("Reply sent to the reporter"));
    w.stop().await;
}

#[tokio::test]
async fn two_handlers_reply_at_once_and_exactly_one_reply_is_stored() {
    let w = Work::start().await;
    let r = Reporter::new();
    w.submit(&r.report("en", "drugs", "Dealing from a car", "AB12 CDE"))
        .await;
    let (mut ann, _, _) = signed_in(&w.td, "ann", Role::Handler).await;
    let (mut bob, _, _) = signed_in(&w.td, "bob", Role::Handler).await;
    pull(&mut ann, 1).await;
    let id = case_links(&ann.get("/").await.body).remove(0);
    let path = format!("/cases/{id}/reply");

    // Both open the case having seen no reply, both send at once.
    let ann_csrf = ann.get(&format!("/cases/{id}")).await.csrf();
    let bob_csrf = bob.get(&format!("/cases/{id}")).await.csrf();
    let from_ann = "Reply from ann: where exactly?";
    let from_bob = "Reply from bob: when exactly?";
    let fa = [
        ("csrf", ann_csrf.as_str()),
        ("seen", "0"),
        ("lang", "en"),
        ("step", "send"),
        ("text", from_ann),
    ];
    let fb = [
        ("csrf", bob_csrf.as_str()),
        ("seen", "0"),
        ("lang", "en"),
        ("step", "send"),
        ("text", from_bob),
    ];
    let (ra, rb) = tokio::join!(ann.post(&path, &fa), bob.post(&path, &fb));
    let statuses = [ra.status, rb.status];
    assert!(
        statuses.contains(&303) && statuses.contains(&409),
        "one sent, one refused: {statuses:?}"
    );
    let (winner, loser, loser_text) = if ra.status == 303 {
        (from_ann, rb, from_bob)
    } else {
        (from_bob, ra, from_ann)
    };
    // Exactly one reply reached the reporter.
    assert_eq!(w.slot(&r, 0).await.as_deref(), Some(winner));
    assert_eq!(w.slot(&r, 1).await, None);
    // The second is told, sees the first (or who is sending it), and chooses.
    assert!(loser.body.contains("Another handler replied first"));
    assert!(loser.body.contains("Your reply was not sent"));
    assert!(
        loser.body.contains(winner) || loser.body.contains("id=\"in-flight\""),
        "{}",
        loser.body
    );
    assert!(loser.body.contains(loser_text), "the draft is kept");
    assert!(loser.body.contains("Send my reply anyway"));
    assert!(loser.body.contains("Discard my reply"));
    w.stop().await;
}

#[tokio::test]
async fn a_handler_who_saw_no_reply_is_shown_the_one_sent_since_and_may_send_anyway() {
    let w = Work::start().await;
    let r = Reporter::new();
    w.submit(&r.report("en", "drugs", "Dealing from a car", "AB12 CDE"))
        .await;
    let (mut ann, _, _) = signed_in(&w.td, "ann", Role::Handler).await;
    let (mut bob, _, _) = signed_in(&w.td, "bob", Role::Handler).await;
    pull(&mut ann, 1).await;
    let id = case_links(&ann.get("/").await.body).remove(0);
    let path = format!("/cases/{id}/reply");
    let ann_csrf = ann.get(&format!("/cases/{id}")).await.csrf();
    let bob_csrf = bob.get(&format!("/cases/{id}")).await.csrf();

    ann.post(
        &path,
        &[
            ("csrf", &ann_csrf),
            ("seen", "0"),
            ("lang", "en"),
            ("step", "send"),
            ("text", "First: where?"),
        ],
    )
    .await
    .assert_see_other(&format!("/cases/{id}?done=replied#timeline"));
    let race = bob
        .post(
            &path,
            &[
                ("csrf", &bob_csrf),
                ("seen", "0"),
                ("lang", "en"),
                ("step", "send"),
                ("text", "Second: when?"),
            ],
        )
        .await;
    assert_eq!(race.status, 409);
    assert!(race.body.contains("Reply sent by ann"));
    assert!(race.body.contains("First: where?"));
    assert_eq!(
        hidden(&race.body, "seen").as_deref(),
        Some("1"),
        "send anyway carries the new count"
    );
    assert_eq!(w.slot(&r, 1).await, None);
    // Send anyway: the next slot.
    bob.post(
        &path,
        &[
            ("csrf", &bob_csrf),
            ("seen", "1"),
            ("lang", "en"),
            ("step", "send"),
            ("text", "Second: when?"),
        ],
    )
    .await
    .assert_see_other(&format!("/cases/{id}?done=replied#timeline"));
    assert_eq!(w.slot(&r, 0).await.as_deref(), Some("First: where?"));
    assert_eq!(w.slot(&r, 1).await.as_deref(), Some("Second: when?"));
    w.stop().await;
}

#[tokio::test]
async fn a_follow_up_reopens_the_case_and_marks_it_unread() {
    let w = Work::start().await;
    let r = Reporter::new();
    w.submit(&r.report("en", "drugs", "Dealing from a car", "AB12 CDE"))
        .await;
    let (mut ann, _, _) = signed_in(&w.td, "ann", Role::Handler).await;
    pull(&mut ann, 1).await;
    let id = case_links(&ann.get("/").await.body).remove(0);
    let csrf = ann.get(&format!("/cases/{id}")).await.csrf();
    ann.post(
        &format!("/cases/{id}/status"),
        &[("csrf", &csrf), ("status", "closed")],
    )
    .await
    .assert_see_other(&format!("/cases/{id}?done=status"));
    assert!(
        case_links(&ann.get("/").await.body).is_empty(),
        "closed: not new work"
    );
    ann.get(&format!("/cases/{id}")).await;
    let page = ann.get("/?view=all").await;
    assert!(
        !page.body.contains("govuk-tag--pink\">Unread"),
        "ann has seen it as it is"
    );

    w.submit(&r.follow_up("He is back tonight with a second car"))
        .await;
    pull(&mut ann, 1).await;
    // One case, back in "new", unread; the follow-up inside it.
    let page = ann.get("/").await;
    assert_eq!(case_links(&page.body), vec![id.clone()], "{}", page.body);
    assert!(page.body.contains("govuk-tag--pink\">Unread"));
    assert!(
        page.body
            .contains("<td class=\"govuk-table__cell govuk-table__cell--numeric\">1</td>"),
        "one follow-up"
    );
    let case = ann.get(&format!("/cases/{id}")).await;
    assert!(case.body.contains("Follow-up from the reporter"));
    assert!(case.body.contains("He is back tonight with a second car"));
    assert!(case.body.contains("Re-opened by a follow-up"));
    // In the order the desk learned of it, whatever the reporter's clock said.
    let closed = case.body.find("Status set to Closed").unwrap();
    let follow = case.body.find("He is back tonight").unwrap();
    assert!(closed < follow);

    // Muted: the next follow-up arrives flagged, not as new work.
    let csrf = case.csrf();
    ann.post(
        &format!("/cases/{id}/status"),
        &[("csrf", &csrf), ("status", "closed")],
    )
    .await;
    ann.post(
        &format!("/cases/{id}/mute"),
        &[("csrf", &csrf), ("muted", "yes")],
    )
    .await
    .assert_see_other(&format!("/cases/{id}?done=muted"));
    w.submit(&r.follow_up("And again")).await;
    pull(&mut ann, 1).await;
    assert!(case_links(&ann.get("/").await.body).is_empty());
    let page = ann.get("/?view=all&flagged=yes").await;
    assert_eq!(case_links(&page.body), vec![id.clone()]);
    assert!(page.body.contains("Follow-up while muted"));
    w.stop().await;
}

#[tokio::test]
async fn export_needs_a_reason_which_the_audit_log_keeps() {
    let w = Work::start().await;
    let r = Reporter::new();
    w.submit(&r.report("en", "drugs", "Dealing from a car", "AB12 CDE"))
        .await;
    let (mut sue, _, _) = signed_in(&w.td, "sue", Role::Supervisor).await;
    pull(&mut sue, 1).await;
    let id = case_links(&sue.get("/").await.body).remove(0);
    let form = sue.get(&format!("/cases/{id}/export")).await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("Reason for the export"));
    let csrf = form.csrf();
    for reason in ["", " ", "x"] {
        let r = sue
            .post(
                &format!("/cases/{id}/export"),
                &[("csrf", &csrf), ("format", "json"), ("reason", reason)],
            )
            .await;
        assert_eq!(r.status, 400, "{reason:?}");
        assert!(r.body.contains("href=\"#reason\""));
        assert!(r.header("content-disposition").is_none());
    }
    let r = sue
        .post(
            &format!("/cases/{id}/export"),
            &[
                ("csrf", &csrf),
                ("format", "json"),
                ("reason", "Request REF-2211 from CID"),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(
        r.header("content-disposition")
            .unwrap()
            .starts_with("attachment; filename=\"quietline-case-")
    );
    assert!(r.body.contains("Dealing from a car"));
    let r = sue
        .post(
            &format!("/cases/{id}/export"),
            &[
                ("csrf", &csrf),
                ("format", "html"),
                ("reason", "Printed for the file"),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(r.header("content-disposition").unwrap().contains(".html\""));

    let audit = sue.get(&format!("/audit?case={id}")).await;
    assert_eq!(audit.status, 200);
    assert!(
        audit.body.contains("json: Request REF-2211 from CID"),
        "{}",
        audit.body
    );
    assert!(audit.body.contains("html: Printed for the file"));
    w.stop().await;
}

#[tokio::test]
async fn audit_and_pull_state_are_for_supervisors_and_the_chain_verifies() {
    let w = Work::start().await;
    let r = Reporter::new();
    w.submit(&r.report("en", "drugs", "Dealing from a car", "AB12 CDE"))
        .await;
    let (mut ann, _, _) = signed_in(&w.td, "ann", Role::Handler).await;
    let (mut sue, _, _) = signed_in(&w.td, "sue", Role::Supervisor).await;
    pull(&mut ann, 1).await;
    for path in ["/audit", "/audit?account=sue", "/pull"] {
        let r = ann.get(path).await;
        assert_eq!(r.status, 403, "{path}");
        assert!(r.body.contains("You cannot do this"));
    }
    let csrf = ann.get("/").await.csrf();
    assert_eq!(
        ann.post("/audit/verify", &[("csrf", &csrf)]).await.status,
        403
    );
    assert!(
        !ann.get("/").await.body.contains("href=\"/audit\""),
        "no audit link for a handler"
    );

    let page = sue.get("/audit").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("<td class=\"govuk-table__cell\">pull</td>")
    );
    let page = sue.get("/audit?account=ann").await;
    assert!(page.body.contains("ann"));
    assert!(
        !page
            .body
            .contains("<td class=\"govuk-table__cell\">audit-view</td>"),
        "sue's own entries are filtered out"
    );
    let page = sue.get("/audit?case=zzzz").await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("href=\"#case\""));
    let csrf = sue.get("/audit").await.csrf();
    let v = sue
        .post("/audit/verify", &[("csrf", &csrf), ("head", "")])
        .await;
    assert_eq!(v.status, 200);
    assert!(v.body.contains("The chain is intact"), "{}", v.body);
    let v = sue
        .post(
            "/audit/verify",
            &[("csrf", &csrf), ("head", &"ab".repeat(32))],
        )
        .await;
    assert!(v.body.contains("The chain is broken"));

    // A tampered envelope: the server cannot tell, the desk flags it; only
    // supervisors see it, with why, and nothing of it can be opened.
    let mut env = quietline_crypto::seal::seal_report(
        &mut rng(),
        FORCE_ID,
        &w.pk,
        &Reporter::new().report("en", "drugs", "x", "y").to_json(),
    )
    .unwrap();
    let last = env.len() - 1;
    env[last] ^= 1;
    w.server.submit(env).await;
    pull(&mut ann, 1).await;
    assert_eq!(
        case_links(&ann.get("/?view=all").await.body).len(),
        1,
        "handlers do not see it"
    );
    let page = sue.get("/?view=all&flagged=yes").await;
    let bad = case_links(&page.body);
    assert_eq!(bad.len(), 1, "{}", page.body);
    assert!(page.body.contains("Cannot be read"));
    let r = sue.get(&format!("/cases/{}", bad[0])).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("This report cannot be read"));

    let p = sue.get("/pull").await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("1 unreadable"), "{}", p.body);
    assert!(p.body.contains("Listed by the server"));
    assert!(
        p.body
            .contains("Asked by</dt><dd class=\"govuk-summary-list__value\">ann")
    );
    w.stop().await;
}

#[tokio::test]
async fn a_supervisor_closes_a_whole_view_in_one_action_audited_per_case() {
    let w = Work::start().await;
    for i in 0..7 {
        let r = Reporter::new();
        w.submit(&r.report("en", "junk", &format!("Flood message {i}"), "ZZ99 ZZZ"))
            .await;
    }
    let keep = Reporter::new();
    w.submit(&keep.report("en", "drugs", "A real report", "AB12 CDE"))
        .await;
    let (mut ann, _, _) = signed_in(&w.td, "ann", Role::Handler).await;
    let (mut sue, _, _) = signed_in(&w.td, "sue", Role::Supervisor).await;
    pull(&mut sue, 8).await;

    // A handler may not act in bulk.
    let csrf = ann.get("/").await.csrf();
    let r = ann
        .post(
            "/bulk",
            &[
                ("csrf", &csrf),
                ("action", "status"),
                ("status", "closed"),
                ("scope", "all"),
                ("here", "/?category=junk"),
            ],
        )
        .await;
    assert_eq!(r.status, 403);

    let page = sue.get("/?category=junk").await;
    assert!(page.body.contains("action=\"/bulk\""));
    assert!(page.body.contains("All 7 cases in this view"));
    // Nothing selected: an error, nothing changed.
    let r = sue
        .post(
            "/bulk",
            &[
                ("csrf", &page.csrf()),
                ("action", "status"),
                ("status", "closed"),
                ("scope", "selected"),
                ("here", "/?category=junk"),
            ],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("href=\"#scope\""));
    // Two selected get a label; then the whole view is closed.
    let ids = case_links(&page.body);
    let r = sue
        .post(
            "/bulk",
            &[
                ("csrf", &page.csrf()),
                ("action", "label"),
                ("label", "flood"),
                ("scope", "selected"),
                ("case", &ids[0]),
                ("case", &ids[1]),
                ("here", "/?category=junk"),
            ],
        )
        .await;
    r.assert_see_other("/?category=junk&bulk=2");
    assert_eq!(
        case_links(&sue.get("/?view=all&label=flood").await.body).len(),
        2
    );
    let r = sue
        .post(
            "/bulk",
            &[
                ("csrf", &page.csrf()),
                ("action", "status"),
                ("status", "closed"),
                ("scope", "all"),
                ("here", "/?category=junk"),
            ],
        )
        .await;
    r.assert_see_other("/?category=junk&bulk=7");
    let page = sue.get("/?category=junk&bulk=7").await;
    assert!(page.body.contains("7 cases changed."));
    assert!(case_links(&page.body).is_empty());
    let page = sue.get("/").await;
    assert_eq!(
        case_links(&page.body).len(),
        1,
        "the real report is untouched"
    );
    // Bulk assign from a list of the active accounts.
    assert!(
        page.body
            .contains("<select class=\"govuk-select\" id=\"bulk-assignee\" name=\"assignee\""),
        "{}",
        page.body
    );
    for option in [
        "<option value=\"\" selected>Nobody</option>",
        "<option value=\"ann\">ann (handler)</option>",
        "<option value=\"sue\">sue (supervisor)</option>",
    ] {
        assert!(page.body.contains(option), "{option}");
    }
    let r = sue
        .post(
            "/bulk",
            &[
                ("csrf", &page.csrf()),
                ("action", "assign"),
                ("assignee", "ann"),
                ("scope", "selected"),
                ("case", &ids[0]),
                ("case", &ids[1]),
                ("here", "/?view=all&category=junk"),
            ],
        )
        .await;
    r.assert_see_other("/?view=all&category=junk&bulk=2");
    assert_eq!(
        case_links(&sue.get("/?view=all&assignee=ann").await.body).len(),
        2
    );
    // One audit entry per case closed.
    let audit = sue.get("/audit?account=sue").await;
    assert_eq!(
        audit
            .body
            .matches("<td class=\"govuk-table__cell\">status</td>")
            .count(),
        7
    );
    w.stop().await;
}

/// The server's clock is not the desk's: reports are received "today" on
/// the server whatever the desk's set clock says; the queue shows the server's day.
#[tokio::test]
async fn the_received_day_is_the_servers() {
    let w = Work::start().await;
    let r = Reporter::new();
    w.submit(&r.report("en", "drugs", "Dealing from a car", "AB12 CDE"))
        .await;
    let (mut ann, _, _) = signed_in(&w.td, "ann", Role::Handler).await;
    pull(&mut ann, 1).await;
    let today = quietline::day::format_day(w.server.clock.today());
    let page = ann.get(&format!("/?from={today}&to={today}")).await;
    assert_eq!(case_links(&page.body).len(), 1, "{}", page.body);
    assert!(page.body.contains(&today));
    w.stop().await;
}

/// Two desk instances on one PostgreSQL vault (as a force runs several):
/// a case taken on one is seen taken on the other, and two handlers
/// replying at once through different desks send exactly one reply.
#[tokio::test]
async fn postgres_two_desks_share_the_queue_and_one_reply_sequence() {
    let Some(pg) = quietline_testkit::pg::fresh_database().await else {
        return;
    };
    let a = TestDesk::start_on(pg.url(), quietline_casework::clock::Clock::set_at(T0)).await;
    let b = TestDesk::start_on(pg.url(), a.clock.clone()).await;
    let w = Work::on(a).await;
    w.connect(&b).await;
    let r = Reporter::new();
    w.submit(&r.report("en", "drugs", "Dealing from a car", "AB12 CDE"))
        .await;
    // Accounts are the vault's: made through desk A, used on both.
    let (mut ann, _, _) = signed_in(&w.td, "ann", Role::Handler).await;
    let pw = w.td.add("bob", Role::Handler).await;
    let mut bob = b.browser();
    first_sign_in(&b, &mut bob, "bob", &pw, "bob's long new password").await;

    pull(&mut ann, 1).await;
    let id = case_links(&ann.get("/").await.body).remove(0);
    // Desk B sees what desk A pulled, and ann taking it.
    let page = bob.get("/").await;
    assert_eq!(case_links(&page.body), vec![id.clone()], "{}", page.body);
    let csrf = ann.get(&format!("/cases/{id}")).await.csrf();
    ann.post(&format!("/cases/{id}/take"), &[("csrf", &csrf)])
        .await
        .assert_see_other(&format!("/cases/{id}?done=taken"));
    let page = bob.get("/?view=all").await;
    assert!(
        page.body
            .contains("<td class=\"govuk-table__cell\">ann</td>"),
        "{}",
        page.body
    );
    assert!(case_links(&bob.get("/").await.body).is_empty());

    // Both reply at once, each through their own desk: exactly one is sent.
    let path = format!("/cases/{id}/reply");
    let bob_csrf = bob.get(&format!("/cases/{id}")).await.csrf();
    let fa = [
        ("csrf", csrf.as_str()),
        ("seen", "0"),
        ("lang", "en"),
        ("step", "send"),
        ("text", "From desk A"),
    ];
    let fb = [
        ("csrf", bob_csrf.as_str()),
        ("seen", "0"),
        ("lang", "en"),
        ("step", "send"),
        ("text", "From desk B"),
    ];
    let (ra, rb) = tokio::join!(ann.post(&path, &fa), bob.post(&path, &fb));
    let mut statuses = [ra.status, rb.status];
    statuses.sort();
    assert_eq!(statuses, [303, 409], "one sent, one refused");
    let winner = if ra.status == 303 {
        "From desk A"
    } else {
        "From desk B"
    };
    assert_eq!(w.slot(&r, 0).await.as_deref(), Some(winner));
    assert_eq!(w.slot(&r, 1).await, None);
    b.stop().await;
    w.stop().await;
    pg.cleanup().await;
}

/// A flood of junk over more than one page: the queue pages it (50 a page,
/// links to the next), and one bulk action on the whole view closes every
/// page of it.
#[tokio::test]
async fn a_flood_over_several_pages_is_paged_and_closed_in_one_action() {
    let w = Work::start().await;
    for i in 0..55 {
        w.submit(&Reporter::new().report("en", "junk", &format!("Spam {i}"), "ZZ99 ZZZ"))
            .await;
    }
    let (mut sue, _, _) = signed_in(&w.td, "sue", Role::Supervisor).await;
    pull(&mut sue, 55).await;
    let page = sue.get("/").await;
    assert_eq!(case_links(&page.body).len(), 50);
    assert!(page.body.contains("showing 1 to 50"));
    assert!(
        page.body.contains("href=\"/?page=2\" rel=\"next\""),
        "{}",
        page.body
    );
    let page2 = sue.get("/?page=2").await;
    assert_eq!(case_links(&page2.body).len(), 5);
    assert!(page2.body.contains("showing 51 to 55"));
    assert!(page2.body.contains("aria-current=\"page\">2</a>"));
    // Past the end: the last page.
    assert_eq!(case_links(&sue.get("/?page=9").await.body).len(), 5);

    let r = sue
        .post(
            "/bulk",
            &[
                ("csrf", &page.csrf()),
                ("action", "status"),
                ("status", "closed"),
                ("scope", "all"),
                ("here", "/?category=junk"),
            ],
        )
        .await;
    r.assert_see_other("/?category=junk&bulk=55");
    assert!(case_links(&sue.get("/").await.body).is_empty());
    let closed = sue.get("/?view=all&status=closed").await;
    assert!(closed.body.contains("55 cases"));
    w.stop().await;
}
