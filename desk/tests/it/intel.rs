//! The intelligence pages over HTTP (issue 17): triage with THRIVE and a
//! priority, RE-THRIVE as a new entry, grading 3x5x2 with its rules shown
//! beside the fields, the grading and response target on the case page and
//! in the queue, overdue flagged when the desk's clock passes the target.
//! A real desk in-process pulling from a real intake server (`work.rs`'s
//! [`Work`]).

use quietline_casework::desk::Role;

use crate::support::*;
use crate::work::{Reporter, Work, pull};

const THRIVE: [(&str, &str); 6] = [
    ("threat", "Dealer supplying on the estate"),
    ("harm", "Supply to young people"),
    ("risk", "Most nights, ongoing"),
    ("investigation", "Test purchase possible"),
    ("vulnerability", "Children at the school nearby"),
    ("engagement", "Neighbourhood team and school liaison"),
];

/// A report about dealing from a car, submitted and pulled by `name`, newly
/// signed in with `role`: their browser, the case's id and its page's path.
async fn a_pulled_case(w: &Work, name: &str, role: Role) -> (Browser, String, String) {
    let r = Reporter::new();
    let id = w
        .submit(&r.report("en", "drugs", "Dealing from the silver car", "AB12 CDE"))
        .await;
    let (mut b, _, _) = signed_in(&w.td, name, role).await;
    pull(&mut b, 1).await;
    let case = format!("/cases/{id}");
    (b, id, case)
}

/// The vault's audit log, every entry.
async fn audit_log(w: &Work) -> Vec<quietline_casework::vault::AuditRow> {
    quietline_casework::vault::Vault::collect(w.td.vault.audit_entries())
        .await
        .unwrap()
}

#[tokio::test]
async fn triage_grade_and_the_response_target_in_the_queue() {
    let w = Work::start().await;
    // This force's own target for High: 1 minute (the session outlives it).
    std::fs::write(
        w.td.home.root().join("intel.toml"),
        "[response_targets]\nhigh = \"1m\"\n",
    )
    .unwrap();
    let (mut ann, id, case) = a_pulled_case(&w, "ann", Role::Handler).await;
    let triage = format!("{case}/triage");

    let page = ann.get(&case).await;
    assert!(page.body.contains("Not graded"), "{}", page.body);
    assert!(page.body.contains("Not triaged"));
    assert!(page.body.contains("Starts at triage"));

    // Triage: every field is required; the error sits by its field.
    let page = ann.get(&triage).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Triage this case"));
    assert!(
        page.body.contains("lang=\"cy\">(Bygythiad)"),
        "Welsh labels beside"
    );
    assert!(
        page.body.contains("lang=\"cy\">Blaenoriaeth") && page.body.contains("lang=\"cy\">(Uchel:"),
        "the priority in Welsh too"
    );
    let mut fields: Vec<(&str, &str)> = THRIVE.to_vec();
    fields[1].1 = "  ";
    fields.push(("priority", "high"));
    let res = ann.submit(&triage, &triage, &fields).await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("href=\"#harm\""), "{}", res.body);
    assert!(res.body.contains("Enter the harm field"));
    assert!(res.body.contains("Dealer supplying on the estate"), "kept");
    fields[1].1 = "Supply to young people";
    let res = ann.submit(&triage, &triage, &fields).await;
    res.assert_see_other(&format!("{case}?done=triaged"));
    let page = ann.get(&format!("{case}?done=triaged")).await;
    assert!(
        page.body
            .contains("The THRIVE assessment and priority are saved.")
    );
    assert!(page.body.contains("Assessed once"));
    assert!(page.body.contains("1 minute left"), "{}", page.body);
    assert!(page.body.contains("Triaged"));
    assert!(page.body.contains("THRIVE assessment at triage"));

    // Grading: moving the source evaluation off 2 needs a reason.
    let g = format!("{case}/grade");
    let page = ann.get(&g).await;
    assert!(page.body.contains("Heb ei brofi"), "Welsh label");
    assert!(page.body.contains("value=\"2\" checked"), "starts at 2");
    let res = ann
        .submit(
            &g,
            &g,
            &[("source", "1"), ("assessment", "B"), ("handling", "C")],
        )
        .await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("href=\"#reason\""), "{}", res.body);
    assert!(res.body.contains("href=\"#conditions\""));
    let res = ann
        .submit(
            &g,
            &g,
            &[
                ("source", "1"),
                ("assessment", "B"),
                ("handling", "C"),
                ("conditions", "Not outside the force"),
                ("reason", "Corroborated by a patrol sighting"),
            ],
        )
        .await;
    res.assert_see_other(&format!("{case}?done=graded"));
    let page = ann.get(&case).await;
    assert!(
        page.body
            .contains("<strong class=\"desk-grading\">1 B C</strong>")
    );
    assert!(page.body.contains("Conditions: Not outside the force"));
    assert!(page.body.contains("Graded 1 B C"), "in the timeline");
    let page = ann.get(&g).await;
    assert!(
        page.body
            .contains("Reason: Corroborated by a patrol sighting")
    );

    // The queue: grading and time left; past the target, overdue.
    let page = ann.get("/?view=all").await;
    assert!(
        page.body.contains("Graded <strong>1 B C</strong>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("1 minute left"));
    assert!(!page.body.contains("desk-overdue"));
    let overdue = ann.get("/?view=all&overdue=yes").await;
    assert!(crate::work::case_links(&overdue.body).is_empty());
    assert!(overdue.body.contains("Only overdue"), "the filter tag");
    w.td.clock.advance(5 * 60);
    let page = ann.get("/?view=all").await;
    assert!(page.body.contains("desk-overdue"), "{}", page.body);
    let overdue = ann.get("/?view=all&overdue=yes").await;
    assert_eq!(crate::work::case_links(&overdue.body), vec![id.to_owned()]);
    assert!(page.body.contains("overdue by 4 minutes"));
    let page = ann.get("/?view=all&priority=high").await;
    assert_eq!(crate::work::case_links(&page.body), vec![id.to_owned()]);

    // RE-THRIVE: the form starts from the latest, a new entry is written.
    let page = ann.get(&triage).await;
    assert!(page.body.contains("RE-THRIVE this case"));
    assert!(
        page.body
            .contains(">Dealer supplying on the estate</textarea>")
    );
    let mut fields: Vec<(&str, &str)> = THRIVE.to_vec();
    fields[0].1 = "Dealer has moved away";
    fields.push(("priority", "low"));
    let res = ann.submit(&triage, &triage, &fields).await;
    res.assert_see_other(&format!("{case}?done=triaged"));
    let page = ann.get(&triage).await;
    assert_eq!(page.body.matches("THRIVE by ann").count(), 2, "both kept");
    assert!(page.body.contains("RE-THRIVE by ann"));
    assert!(page.body.contains(">Dealer has moved away</textarea>"));
    assert!(
        page.body.contains("Dealer supplying on the estate"),
        "the first assessment is kept, not overwritten"
    );
    let page = ann.get(&case).await;
    assert!(page.body.contains("Assessed 2 times (RE-THRIVE)"));
    assert!(
        page.body.contains("7 days left"),
        "low, from the priority change"
    );

    let log = audit_log(&w).await;
    let actions: Vec<(&str, Option<&str>)> = log
        .iter()
        .filter(|e| {
            matches!(
                e.action.as_str(),
                "thrive" | "grade" | "priority" | "status"
            )
        })
        .map(|e| (e.action.as_str(), e.detail.as_deref()))
        .collect();
    assert_eq!(
        actions,
        [
            ("thrive", Some("THRIVE")),
            ("priority", None),
            ("status", None),
            ("grade", None),
            ("thrive", Some("RE-THRIVE")),
            ("priority", None),
        ]
    );
    let text = format!("{log:?}");
    assert!(!text.contains("Dealer") && !text.contains("Corroborated"));
    w.stop().await;
}

/// Raw export, retention and disclosure are a supervisor's: a handler gets
/// the 403 page for each, and the case page offers them only to supervisors.
#[tokio::test]
async fn handlers_are_refused_raw_export_retention_and_disclosure() {
    let w = Work::start().await;
    let (mut ann, id, case) = a_pulled_case(&w, "ann", Role::Handler).await;
    let page = ann.get(&case).await;
    assert!(
        !page.body.contains(&format!("{case}/export\"")),
        "no export link"
    );
    assert!(!page.body.contains("disclose-link"));
    for path in ["export", "retention", "disclose"] {
        let res = ann.get(&format!("{case}/{path}")).await;
        assert_eq!(res.status, 403, "{path}: {}", res.body);
    }
    let res = ann
        .submit(
            &case,
            &format!("{case}/export"),
            &[("format", "json"), ("reason", "CID request")],
        )
        .await;
    assert_eq!(res.status, 403);
    assert!(res.body.contains("supervisor"), "{}", res.body);
    assert!(!res.body.contains("AB12 CDE"));
    let res = ann
        .submit(&case, &format!("{case}/delete"), &[("confirm", &id[..12])])
        .await;
    assert_eq!(res.status, 403);
    let log = audit_log(&w).await;
    assert!(
        !log.iter()
            .any(|e| e.action == "export" || e.action == "delete"),
        "refused before anything"
    );
}

/// A closed case's review date, the queue's "due for review" filter, and a
/// supervisor keeping it and then deleting it.
#[tokio::test]
async fn a_supervisor_reviews_keeps_and_deletes_a_closed_case() {
    let w = Work::start().await;
    let (mut sue, id, case) = a_pulled_case(&w, "sue", Role::Supervisor).await;
    let page = sue.get(&case).await;
    assert!(!page.body.contains("retention-link"), "open: no review yet");
    let res = sue
        .submit(&case, &format!("{case}/status"), &[("status", "closed")])
        .await;
    assert_eq!(res.status, 303);
    let page = sue.get(&case).await;
    assert!(page.body.contains("Retention review"), "{}", page.body);
    assert!(
        page.body
            .contains("6 years after closure (the force&#39;s default)")
            || page
                .body
                .contains("6 years after closure (the force's default)"),
        "{}",
        page.body
    );
    assert!(page.body.contains("lang=\"cy\">(Adolygiad cadw)"));
    let due = sue.get("/?view=all&review=due").await;
    assert!(crate::work::case_links(&due.body).is_empty());
    assert!(
        due.body.contains("Due for retention review"),
        "the filter tag"
    );

    // Six years and a day on (a new sign-in: the old session has long expired).
    w.td.clock.advance((6 * 366 + 1) * 86_400);
    let (mut sam, _, _) = signed_in(&w.td, "sam", Role::Supervisor).await;
    let due = sam.get("/?view=all&review=due").await;
    assert_eq!(crate::work::case_links(&due.body), vec![id.clone()]);
    assert!(due.body.contains("desk-review-due"), "{}", due.body);
    let retention = format!("{case}/retention");
    let form = sam.get(&retention).await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("Review due"));
    let keep = |until, reason| [("next_review", until), ("reason", reason)];
    let res = sam
        .submit(&retention, &retention, &keep("2001-01-01", "still needed"))
        .await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("href=\"#next_review\""), "{}", res.body);
    let res = sam
        .submit(
            &retention,
            &retention,
            &keep("2090-01-01", "Linked to Op Quokka"),
        )
        .await;
    res.assert_see_other(&format!("{case}/retention?done=retained"));
    let page = sam.get(&format!("{case}/retention?done=retained")).await;
    assert!(page.body.contains("Kept until 2090-01-01 by sam"));
    assert!(page.body.contains("Linked to Op Quokka"));
    let due = sam.get("/?view=all&review=due").await;
    assert!(crate::work::case_links(&due.body).is_empty());

    // Delete: the id typed to confirm.
    let delete = format!("{case}/delete");
    let res = sam
        .submit(&retention, &delete, &[("confirm", "nope")])
        .await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("href=\"#confirm\""), "{}", res.body);
    let res = sam
        .submit(&retention, &delete, &[("confirm", &id[..12])])
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res.body.contains("Case deleted"));
    assert_eq!(sam.get(&case).await.status, 404);
    assert!(w.td.vault.envelope(&id).await.unwrap().is_none());
    let log = audit_log(&w).await;
    let del: Vec<_> = log.iter().filter(|e| e.action == "delete").collect();
    assert_eq!(del.len(), 1);
    assert_eq!(del[0].report_id.as_deref(), Some(id.as_str()));
    assert_eq!(del[0].detail, None);
    assert!(!format!("{log:?}").contains("Quokka"));
}

/// A supervisor discloses a sanitised report to a partner: the signed file
/// carries the partner and conditions; the case lists the disclosure.
#[tokio::test]
async fn a_supervisor_discloses_a_sanitised_report_to_a_partner() {
    let w = Work::start().await;
    let (mut sue, id, case) = a_pulled_case(&w, "sue", Role::Supervisor).await;
    let boss = handler("cas", Role::Custodian);
    w.td.desk.create_export_key(&boss).await.unwrap();
    let page = sue.get(&format!("{case}/disclose")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("write one"), "no report yet");
    let reference = graded_with_a_report(&w.td.desk, &boss, &id).await;
    let d = format!("{case}/disclose");
    let page = sue.get(&d).await;
    assert!(page.body.contains(&reference), "{}", page.body);
    assert!(page.body.contains("lang=\"cy\">(Amodau trin)"));
    let disclose = |conditions| {
        [
            ("number", "1"),
            ("partner", "Local authority safeguarding team"),
            ("reason", "Safeguarding referral"),
            ("conditions", conditions),
            ("format", "json"),
        ]
    };
    let res = sue.submit(&d, &d, &disclose(" ")).await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("href=\"#conditions\""), "{}", res.body);
    let res = sue
        .submit(
            &d,
            &d,
            &disclose("Not to be shared further without consent"),
        )
        .await;
    assert_eq!(res.status, 200);
    assert!(
        res.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("{reference}-disclosure.json"))
    );
    let file = quietline_casework::intel::report::verify(res.body.as_bytes(), None).unwrap();
    let disclosure = file.report.disclosure.unwrap();
    assert_eq!(disclosure.partner, "Local authority safeguarding team");
    assert_eq!(
        disclosure.handling_conditions,
        "Not to be shared further without consent"
    );
    assert!(!res.body.contains("AB12 CDE"));
    let page = sue.get(&case).await;
    assert!(
        page.body
            .contains(&format!("{reference} to Local authority safeguarding team")),
        "{}",
        page.body
    );
}
