//! `quietline-console intel grade` and `intel triage` (issue 17) through the
//! real binary against a real server: a pulled report is graded (the source
//! evaluation moves only with a reason, C needs its conditions), triaged
//! and re-assessed; `show` prints the grading, the response target and the
//! latest THRIVE; the audit log records each step without its content.

use crate::support::{Console, Reporter, short};

fn console_with_a_case() -> (Console, String, crate::support::Server) {
    let server = crate::support::start_server();
    server.add_force("north", "North Constabulary");
    let mut console = Console::new();
    let pk = console.init("north");
    server.add_key("north", &pk);
    let token = server.token("north", "handler-1");
    console.login(&server.base, &token);
    let reporter = Reporter::new();
    let id = server.submit(reporter.seal(
        "north",
        &pk,
        &reporter.report_payload("Dealing behind the Co-op"),
    ));
    console.ok(&["pull"]);
    (console, id, server)
}

/// `intel grade ID --source … --assessment … --handling …` and then `more`.
fn grade<'a>(id: &'a str, grading: [&'a str; 3], more: &[&'a str]) -> Vec<&'a str> {
    let [source, assessment, handling] = grading;
    let mut args = vec![
        "intel",
        "grade",
        id,
        "--source",
        source,
        "--assessment",
        assessment,
        "--handling",
        handling,
    ];
    args.extend_from_slice(more);
    args
}

/// `intel report ID --title … --text …` and then `more`.
fn report<'a>(id: &'a str, title: &'a str, text: &'a str, more: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["intel", "report", id, "--title", title, "--text", text];
    args.extend_from_slice(more);
    args
}

/// `intel disclose ID 1` to the safeguarding team with `conditions`, then `more`.
fn disclose<'a>(id: &'a str, conditions: &'a str, more: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "intel",
        "disclose",
        id,
        "1",
        "--partner",
        "Local authority safeguarding team",
        "--reason",
        "Safeguarding referral",
        "--conditions",
        conditions,
    ];
    args.extend_from_slice(more);
    args
}

/// `intel export ID 1 --output PATH`.
fn export_to<'a>(id: &'a str, path: &'a str) -> [&'a str; 6] {
    ["intel", "export", id, "1", "--output", path]
}

/// `intel retain ID --until … --reason …`.
fn retain<'a>(id: &'a str, until: &'a str, reason: &'a str) -> [&'a str; 7] {
    ["intel", "retain", id, "--until", until, "--reason", reason]
}

#[test]
fn grade_and_triage_a_case_from_the_command_line() {
    let (c, id, _server) = console_with_a_case();
    let id = short(&id);
    let out = c.ok(&grade(id, ["2", "b", "P"], &[]));
    assert!(out.contains("Graded 2 B P."), "{out}");
    // Moving the source evaluation needs a reason: refused, exit 1, nothing written.
    let o = c.run(&grade(id, ["1", "B", "P"], &[]));
    assert_eq!(o.code, Some(1), "{o:?}");
    assert!(
        o.stderr
            .contains("reason for changing the source evaluation from 2"),
        "{o:?}"
    );
    // C without conditions is refused before the passphrase is asked.
    let e = c.fails(&grade(id, ["2", "B", "C"], &[]));
    assert!(e.contains("conditions"), "{e}");
    let e = c.fails(&grade(id, ["7", "B", "P"], &[]));
    assert!(e.contains("Choose a source evaluation: 1, 2 or 3"), "{e}");
    let out = c.ok(&grade(
        id,
        ["1", "B", "C"],
        &[
            "--conditions",
            "Not outside the force without the FIB's agreement",
            "--reason",
            "quietword-corroborated by a second source",
        ],
    ));
    assert!(out.contains("Graded 1 B C."), "{out}");

    let triage = |threat: &str, priority: &str| {
        c.ok(&[
            "intel",
            "triage",
            id,
            "--threat",
            threat,
            "--harm",
            "Supply to young people",
            "--risk",
            "Ongoing most nights",
            "--investigation",
            "Test purchase possible",
            "--vulnerability",
            "Children on the estate",
            "--engagement",
            "Neighbourhood team, school liaison",
            "--priority",
            priority,
        ])
    };
    let out = triage("quietword-dealer on the estate", "high");
    assert!(
        out.contains(
            "THRIVE saved; priority high, status triaged; response target 1 hour from now."
        ),
        "{out}"
    );
    let out = triage("Dealer moved on", "medium");
    assert!(out.contains("RE-THRIVE saved; priority medium;"), "{out}");
    let e = c.fails(&[
        "intel",
        "triage",
        id,
        "--threat",
        " ",
        "--harm",
        "h",
        "--risk",
        "r",
        "--investigation",
        "i",
        "--vulnerability",
        "v",
        "--engagement",
        "e",
        "--priority",
        "low",
    ]);
    assert!(e.contains("Enter the threat field"), "{e}");

    let shown = c.ok(&["show", id]);
    for want in [
        "graded it 2 B P",
        "graded it 1 B C",
        "quietword-corroborated by a second source",
        "made a THRIVE assessment",
        "made a RE-THRIVE assessment",
        "Grading: 1 B C  (Source evaluation: Reliable (1).",
        "Not outside the force without the FIB's agreement",
        "RE-THRIVE by",
        "Dealer moved on",
    ] {
        assert!(shown.contains(want), "missing {want:?} in:\n{shown}");
    }
    // Medium: 24 hours from the RE-THRIVE that changed the priority.
    assert!(
        shown.contains("Response target: 1 day left")
            || shown.contains("Response target: 23 hours"),
        "{shown}"
    );
    let log = c.ok(&["audit"]);
    for want in ["grade", "thrive", "RE-THRIVE", "priority"] {
        assert!(log.contains(want), "missing {want:?} in:\n{log}");
    }
    assert!(
        !log.contains("quietword"),
        "case content in the audit log:\n{log}"
    );
    assert!(!log.contains("FIB"), "{log}");
}

#[test]
fn a_sanitised_report_is_exported_signed_and_verified_by_a_records_team() {
    let (c, id, _server) = console_with_a_case();
    let id = short(&id);
    // Not graded yet: refused.
    let e = c.fails(&report(id, "Supply", "A male supplies drugs", &[]));
    assert!(e.contains("grade the case"), "{e}");
    c.ok(&grade(id, ["2", "C", "P"], &[]));
    let lines = c.ok(&["intel", "lines", id]);
    let n = lines
        .lines()
        .find(|l| l.contains("Where: Behind the Co-op on Mill Lane"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("{lines}"))
        .to_owned();
    // The reporter's words copied into the handler's own text are refused.
    let e = c.fails(&report(
        id,
        "Supply",
        "Someone is dealing behind the Co-op on Mill Lane most nights",
        &[],
    ));
    assert!(e.contains("copies a line the reporter wrote"), "{e}");
    let out = c.ok(&report(
        id,
        "Supply of drugs",
        "A male is said to supply drugs in the area most nights.",
        &["--line", &n],
    ));
    assert!(
        out.contains(&format!(
            "Sanitised intelligence report QL-north-{id}-1 written."
        )),
        "{out}"
    );
    // No export key yet; the custodian makes one.
    let e = c.fails(&["intel", "export", id, "1"]);
    assert!(e.contains("export key create"), "{e}");
    let made = c.ok(&["export", "key", "create"]);
    let key = made
        .lines()
        .find_map(|l| l.strip_prefix("public key: "))
        .unwrap()
        .trim()
        .to_owned();
    assert!(c.ok(&["export", "key", "show"]).contains(&key));
    assert!(
        c.fails(&["export", "key", "create"])
            .contains("already has an export key")
    );

    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let html = dir.path().join("report.html");
    c.ok(&export_to(id, json.to_str().unwrap()));
    c.ok(&[
        "intel",
        "export",
        id,
        "1",
        "--format",
        "html",
        "-o",
        html.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&json).unwrap();
    assert!(text.contains("\"protective_marking\": \"OFFICIAL-SENSITIVE\""));
    assert!(text.contains("\"category\": \"Drugs\""), "words, not codes");
    assert!(
        text.contains("Behind the Co-op on Mill Lane"),
        "the chosen line"
    );
    assert!(!text.contains("Dealing behind"), "never an unchosen line");
    assert!(!text.contains("Tall Dave"));

    // The records team: no home, no passphrase.
    for f in [&json, &html] {
        let out = c.ok(&[
            "export",
            "verify",
            f.to_str().unwrap(),
            "--public-key",
            &key,
        ]);
        assert!(out.starts_with("Valid: QL-north-"), "{out}");
        assert!(out.contains("the pinned key"));
    }
    let edited = dir.path().join("edited.json");
    std::fs::write(&edited, text.replace("OFFICIAL-SENSITIVE", "OFFICIAL")).unwrap();
    let o = c.run(&["export", "verify", edited.to_str().unwrap()]);
    assert_eq!(o.code, Some(1));
    assert!(
        o.stderr.contains("NOT valid: the signature does not match"),
        "{o:?}"
    );
    let other = "A".repeat(43);
    let o = c.run(&[
        "export",
        "verify",
        json.to_str().unwrap(),
        "--public-key",
        &other,
    ]);
    assert_eq!(o.code, Some(1), "{o:?}");
    assert!(o.stderr.contains("not by the pinned key"), "{o:?}");
    // Never overwritten.
    let e = c.fails(&export_to(id, json.to_str().unwrap()));
    assert!(e.contains("never overwritten"), "{e}");
}

#[test]
fn retention_disclosure_and_deletion_from_the_command_line() {
    let (c, full, _server) = console_with_a_case();
    let id = short(&full);
    // Nothing is overdue or due for review yet.
    let out = c.ok(&["list", "--overdue"]);
    assert!(out.contains("0 shown of 1"), "{out}");
    let out = c.ok(&["list", "--review-due"]);
    assert!(out.contains("0 shown of 1"), "{out}");
    // An open case has no review date and is neither kept nor deleted.
    let e = c.fails(&retain(id, "2040-01-01", "x"));
    assert!(e.contains("closed"), "{e}");
    let e = c.fails(&["intel", "delete", id, "--confirm", id]);
    assert!(e.contains("close it first"), "{e}");

    // Disclosure: only as a sanitised report, recorded and signed with the conditions.
    c.ok(&grade(id, ["2", "C", "P"], &[]));
    let e = c.fails(&disclose(id, "Not to be shared further", &[]));
    assert!(e.contains("sanitised intelligence report"), "{e}");
    c.ok(&report(
        id,
        "Supply of drugs",
        "A male is said to supply drugs in the area most nights.",
        &[],
    ));
    c.ok(&["export", "key", "create"]);
    let e = c.fails(&disclose(id, " ", &[]));
    assert!(e.contains("handling conditions"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("disclosed.json");
    c.ok(&disclose(
        id,
        "Not to be shared further without the force's consent",
        &["-o", file.to_str().unwrap()],
    ));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("\"partner\": \"Local authority safeguarding team\""));
    assert!(text.contains("Not to be shared further without the force's consent"));
    assert!(
        !text.contains("Dealing behind"),
        "never the reporter's words"
    );
    assert!(
        c.ok(&["export", "verify", file.to_str().unwrap()])
            .starts_with("Valid: QL-north-")
    );
    let shown = c.ok(&["show", id]);
    assert!(
        shown.contains(&format!(
            "Disclosed QL-north-{id}-1 to Local authority safeguarding team"
        )),
        "{shown}"
    );

    // Closed: a review date six years on; kept with a new date and reason.
    c.ok(&["status", id, "closed"]);
    let shown = c.ok(&["show", id]);
    assert!(
        shown.contains("Retention review: ") && shown.contains("6 years after closure"),
        "{shown}"
    );
    let e = c.fails(&retain(id, "2001-01-01", "x"));
    assert!(e.contains("after today"), "{e}");
    let out = c.ok(&retain(id, "2090-01-01", "linked to a live operation"));
    assert!(out.contains("next retention review 2090-01-01"), "{out}");

    // Deleted: confirmed with the id, gone from the vault, not pulled again
    // though the server still holds it; the audit log keeps the id only.
    let e = c.fails(&["intel", "delete", id, "--confirm", "abcd"]);
    assert!(e.contains("to confirm"), "{e}");
    let out = c.ok(&["intel", "delete", id, "--confirm", id]);
    assert!(out.contains("Deleted the case: 1 message"), "{out}");
    c.fails(&["show", id]);
    c.ok(&["pull"]);
    let out = c.ok(&["list"]);
    assert!(out.contains("0 shown of 0"), "{out}");
    let log = c.ok(&["audit"]);
    let del: Vec<&str> = log.lines().filter(|l| l.contains(" delete")).collect();
    assert_eq!(del.len(), 1, "{log}");
    assert!(del[0].contains(id), "{log}");
    assert!(
        !log.contains("live operation") && !log.contains("consent"),
        "{log}"
    );
}
