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

#[tokio::test]
async fn triage_grade_and_the_response_target_in_the_queue() {
    let w = Work::start().await;
    // This force's own target for High: 1 minute (the session outlives it).
    std::fs::write(
        w.td.home.root().join("intel.toml"),
        "[response_targets]\nhigh = \"1m\"\n",
    )
    .unwrap();
    let r = Reporter::new();
    let id = w
        .submit(&r.report("en", "drugs", "Dealing from the silver car", "AB12 CDE"))
        .await;
    let (mut ann, _, _) = signed_in(&w.td, "ann", Role::Handler).await;
    pull(&mut ann, 1).await;
    let case = format!("/cases/{id}");

    let page = ann.get(&case).await;
    assert!(page.body.contains("Not graded"), "{}", page.body);
    assert!(page.body.contains("Not triaged"));
    assert!(page.body.contains("Starts at triage"));

    // Triage: every field is required; the error sits by its field.
    let page = ann.get(&format!("{case}/triage")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Triage this case"));
    assert!(
        page.body.contains("lang=\"cy\">(Bygythiad)"),
        "Welsh labels beside"
    );
    let mut fields: Vec<(&str, &str)> = THRIVE.to_vec();
    fields[1].1 = "  ";
    fields.push(("priority", "high"));
    let res = ann
        .submit(
            &format!("{case}/triage"),
            &format!("{case}/triage"),
            &fields,
        )
        .await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("href=\"#harm\""), "{}", res.body);
    assert!(res.body.contains("Enter the harm field"));
    assert!(res.body.contains("Dealer supplying on the estate"), "kept");
    fields[1].1 = "Supply to young people";
    let res = ann
        .submit(
            &format!("{case}/triage"),
            &format!("{case}/triage"),
            &fields,
        )
        .await;
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
    w.td.clock.advance(5 * 60);
    let page = ann.get("/?view=all").await;
    assert!(page.body.contains("desk-overdue"), "{}", page.body);
    assert!(page.body.contains("overdue by 4 minutes"));
    let page = ann.get("/?view=all&priority=high").await;
    assert_eq!(crate::work::case_links(&page.body), vec![id.to_owned()]);

    // RE-THRIVE: the form starts from the latest, a new entry is written.
    let page = ann.get(&format!("{case}/triage")).await;
    assert!(page.body.contains("RE-THRIVE this case"));
    assert!(
        page.body
            .contains(">Dealer supplying on the estate</textarea>")
    );
    let mut fields: Vec<(&str, &str)> = THRIVE.to_vec();
    fields[0].1 = "Dealer has moved away";
    fields.push(("priority", "low"));
    let res = ann
        .submit(
            &format!("{case}/triage"),
            &format!("{case}/triage"),
            &fields,
        )
        .await;
    res.assert_see_other(&format!("{case}?done=triaged"));
    let page = ann.get(&format!("{case}/triage")).await;
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

    let log = quietline_casework::vault::Vault::collect(w.td.vault.audit_entries())
        .await
        .unwrap();
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
