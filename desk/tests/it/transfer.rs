//! Passing a case to another force from the desk (issue 17): the form is for
//! supervisors, refuses a missing force or reason, shows a check step, and
//! then transfers; the case page and the queue show "Transferred", the
//! audit log names the destination, and the receiving force's inbox holds
//! the report sealed to its key with the transfer note.

use quietline_casework::desk::Role;
use quietline_crypto::envelope::Kind;
use quietline_crypto::payload::Payload;

use crate::support::*;
use crate::work::{Reporter, Work, case_links, pull};

#[tokio::test]
async fn a_supervisor_transfers_a_case_after_a_check_step() {
    let w = Work::start().await;
    let west = w.server.add_force("west", "Western Police").await;
    let west_token = w.server.token("west", "west desk").await;
    let r = Reporter::new();
    w.submit(&r.report("en", "drugs", "Dealing from a car", "AB12 CDE"))
        .await;
    let (mut sue, _, _) = signed_in(&w.td, "sue", Role::Supervisor).await;
    let (mut hal, _, _) = signed_in(&w.td, "hal", Role::Handler).await;
    pull(&mut sue, 1).await;
    let id = case_links(&sue.get("/").await.body).remove(0);

    // Handlers are not offered it and may not open it.
    let page = hal.get(&format!("/cases/{id}")).await;
    assert!(!page.body.contains("id=\"transfer-link\""));
    assert_eq!(hal.get(&format!("/cases/{id}/transfer")).await.status, 403);

    let page = sue.get(&format!("/cases/{id}")).await;
    assert!(page.body.contains("id=\"transfer-link\""), "{}", page.body);
    let form = sue.get(&format!("/cases/{id}/transfer")).await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("Western Police"));
    assert!(
        form.body.contains("lang=\"cy\""),
        "Welsh beside the English"
    );
    let csrf = form.csrf();
    let path = format!("/cases/{id}/transfer");
    let r1 = sue
        .post(
            &path,
            &[("csrf", &csrf), ("step", "check"), ("reason", "x")],
        )
        .await;
    assert_eq!(r1.status, 400);
    assert!(r1.body.contains("href=\"#to\""), "{}", r1.body);
    let r2 = sue
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("step", "check"),
                ("to", "west"),
                ("reason", " "),
            ],
        )
        .await;
    assert_eq!(r2.status, 400);
    assert!(r2.body.contains("href=\"#reason\""));

    let reason = "Happened in the western area";
    let check = sue
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("step", "check"),
                ("to", "west"),
                ("reason", reason),
            ],
        )
        .await;
    assert_eq!(check.status, 200);
    assert!(check.body.contains("Check the transfer"));
    assert!(check.body.contains("id=\"transfer-send\""));
    assert!(
        quietline_testkit::server::inbox_ids(&w.server.http, &w.server.base, &west_token)
            .await
            .is_empty(),
        "nothing is sent before the check is confirmed"
    );

    let sent = sue
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("step", "send"),
                ("to", "west"),
                ("reason", reason),
            ],
        )
        .await;
    sent.assert_see_other(&format!("/cases/{id}?done=transferred"));
    let page = sue.get(&format!("/cases/{id}?done=transferred")).await;
    assert!(page.body.contains("The case is transferred"));
    assert!(page.body.contains("id=\"transferred-to\""));
    assert!(page.body.contains("Western Police"));
    assert!(page.body.contains(reason));
    let queue = sue.get("/?view=all").await;
    assert!(queue.body.contains(">Transferred<"), "{}", queue.body);
    let audit = sue.get(&format!("/audit?case={id}")).await;
    assert!(
        audit.body.contains("to west (Western Police)"),
        "{}",
        audit.body
    );
    assert!(!audit.body.contains(reason), "the reason stays sealed");

    // The receiving force holds the report, sealed to its key, with the note.
    let ids =
        quietline_testkit::server::inbox_ids(&w.server.http, &w.server.base, &west_token).await;
    assert_eq!(ids.len(), 1);
    let env = w
        .server
        .http
        .get(w.server.url(&format!("/api/v1/inbox/{}", ids[0])))
        .bearer_auth(&west_token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let plain = quietline_crypto::open::open(&west.private_key, Kind::Report, &env).unwrap();
    let Payload::Report(report) = Payload::from_json(&plain).unwrap() else {
        panic!("not a report")
    };
    let note = report.transfer.unwrap();
    assert_eq!(
        (note.from_force.as_str(), note.reason.as_str()),
        (FORCE_ID, reason)
    );
    assert_eq!(note.case, id);
    assert_eq!(report.report.details, "Dealing from a car");
    w.stop().await;
}
