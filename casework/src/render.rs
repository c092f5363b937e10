//! Text for the terminal: `show`'s view of a case and `list`'s table (from
//! the desk's [`crate::desk::CaseView`] and [`crate::desk::QueueRow`]), and
//! the report's labelled fields shared with the desk and the export.
//!
//! It owns the wording and layout, and passes every untrusted string through
//! [`crate::text`] so nothing a reporter wrote can drive the terminal. It does
//! not open anything (see [`crate::desk`]) and does not write HTML or JSON
//! (see [`crate::export`]).

use std::fmt::Write as _;

use quietline_crypto::payload::ReportBody;

use crate::labels::{self, Lang};
use crate::text::{clean, clean_line, indent};

/// Characters of a report id shown to users (48 bits: unambiguous in
/// practice; any unambiguous prefix of 4 or more is accepted back).
pub const SHORT_ID: usize = 12;

/// The short form of a report id.
pub fn short(id: &str) -> &str {
    &id[..SHORT_ID.min(id.len())]
}

/// Short form of a thread id.
pub fn short_thread(t: Option<[u8; 16]>) -> String {
    t.map(|t| hex::encode(&t[..4]))
        .unwrap_or_else(|| "-".into())
}

/// The labelled fields of a report, in a fixed order, raw (uncleaned) text.
pub fn report_fields(r: &ReportBody) -> Vec<(String, String)> {
    let mut f = vec![
        // The words the reporter chose, not the wire value (labels.rs).
        (
            "Category".to_owned(),
            labels::category(&r.category, Lang::En).to_owned(),
        ),
        ("Details".to_owned(), r.details.clone()),
    ];
    f.push((
        "Where".to_owned(),
        if r.location.known {
            if r.location.description.is_empty() {
                "(known; no description given)".into()
            } else {
                r.location.description.clone()
            }
        } else {
            "not known".into()
        },
    ));
    let mut when = Vec::new();
    if r.when.known {
        if let Some(d) = &r.when.date {
            when.push(d.clone());
        }
        if let Some(t) = &r.when.time {
            when.push(t.clone());
        }
    } else {
        when.push("not known".into());
    }
    // "No" and "I do not know" are different answers; the handler sees which.
    if r.when.ongoing {
        when.push("(still happening)".into());
    } else if r.when.ongoing_unknown {
        when.push("(still happening: the reporter does not know)".into());
    } else {
        when.push("(not still happening)".into());
    }
    if !r.when.description.is_empty() {
        when.push(format!("— {}", r.when.description));
    }
    f.push(("When".to_owned(), when.join(" ")));
    if r.people.is_empty() {
        f.push(("People".to_owned(), "none given".into()));
    }
    for (i, p) in r.people.iter().enumerate() {
        let name = if p.name.is_empty() {
            "(no name)"
        } else {
            &p.name
        };
        f.push((
            format!("Person {}", i + 1),
            if p.description.is_empty() {
                name.to_owned()
            } else {
                format!("{name} — {}", p.description)
            },
        ));
    }
    if r.vehicles.is_empty() {
        f.push(("Vehicles".to_owned(), "none given".into()));
    }
    for (i, v) in r.vehicles.iter().enumerate() {
        let parts: Vec<&str> = [
            v.registration.as_str(),
            v.make_model.as_str(),
            v.colour.as_str(),
        ]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
        let mut s = if parts.is_empty() {
            "(no registration, make or colour)".to_owned()
        } else {
            parts.join(", ")
        };
        if !v.description.is_empty() {
            s.push_str(&format!(" — {}", v.description));
        }
        f.push((format!("Vehicle {}", i + 1), s));
    }
    f.push((
        "How known".to_owned(),
        if r.how_known_details.is_empty() {
            labels::how_known(&r.how_known, Lang::En).to_owned()
        } else {
            format!(
                "{} — {}",
                labels::how_known(&r.how_known, Lang::En),
                r.how_known_details
            )
        },
    ));
    f
}

/// The header line of `list`.
pub fn list_header() -> String {
    format!(
        "{:<12}  {:<10}  {:<12}  {:<20}  {:<32}  {:<8}  {}",
        "ID", "RECEIVED", "CATEGORY", "PLACE", "FIRST WORDS", "THREAD", "STATUS"
    )
}

/// One line of `list` for a case of the queue: the report's columns, then
/// the case's status with its follow-ups and assignee.
pub fn queue_line(r: &crate::desk::QueueRow) -> String {
    use crate::desk::CaseFlag;
    let (category, place, words, status) = match &r.flag {
        Some(CaseFlag::Unreadable { code, reason }) => (
            if code == crate::thread::DUPLICATE {
                "DUPLICATE"
            } else {
                "UNREADABLE"
            }
            .to_owned(),
            code.clone(),
            reason.clone(),
            "-".to_owned(),
        ),
        _ => {
            // A case passed to another force (issue 17) is closed as transferred.
            let mut status = if r.transferred_to.is_some() {
                "transferred".to_owned()
            } else {
                r.status.to_string()
            };
            if let Some(from) = &r.transferred_from {
                status.push_str(&format!(" · from {}", clean_line(from, 40)));
            }
            if r.follow_ups > 0 {
                status.push_str(&format!(
                    " · {} follow-up{}",
                    r.follow_ups,
                    if r.follow_ups == 1 { "" } else { "s" }
                ));
            }
            if let Some(a) = &r.assignee {
                status.push_str(&format!(" · {}", clean_line(a, 24)));
            }
            if r.flag.is_some() {
                status.push_str(" · FLAGGED (muted)");
            }
            // Issue 17: the response target passed, the retention review due.
            if let Some(d) = r.intel.due.as_ref().filter(|d| d.overdue) {
                status.push_str(&format!(" · OVERDUE ({})", d.words()));
            }
            if let Some(rv) = r.intel.review.as_ref().filter(|rv| rv.due) {
                status.push_str(&format!(" · REVIEW DUE {}", rv.review_on));
            }
            (
                labels::category(&r.category, Lang::En).to_owned(),
                r.place.clone(),
                r.summary.clone(),
                status,
            )
        }
    };
    format!(
        "{:<12}  {:<10}  {:<12}  {:<20}  {:<32}  {:<8}  {}",
        r.short_id,
        clean_line(&r.received, 10),
        clean_line(&category, 12),
        clean_line(&place, 20),
        clean_line(&words, 32),
        r.thread,
        status
    )
}

fn write_fields(out: &mut String, fields: &[crate::desk::Field]) {
    for f in fields {
        if f.value.contains('\n') || f.label == "Details" || f.label == "Message" {
            let _ = writeln!(out, "    {}:\n{}", f.label, indent(&f.value, 8));
        } else {
            let _ = writeln!(out, "    {}: {}", f.label, clean(&f.value));
        }
    }
}

/// `show`: a case — the report, then its timeline (follow-ups and replies
/// numbered, handlers' changes between them), then its notes.
pub fn show_case(v: &crate::desk::CaseView) -> String {
    use crate::desk::TimelineEvent as E;
    let mut out = String::new();
    let messages = 1 + v
        .timeline
        .iter()
        .filter(|i| {
            matches!(
                i.event,
                E::FollowUp { .. } | E::Report { .. } | E::Reply { .. }
            )
        })
        .count();
    let _ = writeln!(out, "Report {} for force {}", v.case_id, v.force_id);
    let _ = writeln!(
        out,
        "Thread {} · {messages} message(s) · status {}",
        v.thread, v.status
    );
    let mut case = vec![format!("priority {}", v.priority)];
    case.push(match &v.assignee {
        Some(a) => format!("assigned to {}", clean_line(a, 80)),
        None => "not assigned".to_owned(),
    });
    if !v.labels.is_empty() {
        case.push(format!(
            "labels {}",
            v.labels
                .iter()
                .map(|l| clean_line(l, 40))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if v.muted {
        case.push("muted".to_owned());
    }
    let _ = writeln!(out, "Case: {}", case.join(" · "));
    if !v.seen_by.is_empty() {
        let seen: Vec<String> = v
            .seen_by
            .iter()
            .map(|s| {
                let name = clean_line(&s.account, 40);
                if s.current {
                    name
                } else {
                    format!("{name} (before the latest)")
                }
            })
            .collect();
        let _ = writeln!(out, "Seen by: {}", seen.join(", "));
    }
    let _ = writeln!(out, "{}", "─".repeat(72));
    let _ = writeln!(
        out,
        "[1] report {} · received {} · sent {} (reporter's clock) · language {}",
        v.short_id,
        clean_line(&v.received, 10),
        clean_line(&v.sent_at, 40),
        clean_line(&v.language, 16)
    );
    write_fields(&mut out, &v.fields);
    if !v.attachment_list.is_empty() {
        let stored = v.attachment_list.iter().filter(|a| a.is_stored()).count();
        let _ = writeln!(
            out,
            "    Attachments: {} ({stored} stored; `attachments {}` lists them, `attachment save {} N --out FILE` writes one)",
            v.attachment_list.len(),
            v.short_id,
            v.short_id
        );
    }
    out.push('\n');
    let mut k = 1;
    let mut notes = Vec::new();
    for item in &v.timeline {
        let by = item
            .by
            .as_deref()
            .map(|b| clean_line(b, 80))
            .unwrap_or_default();
        let at = clean_line(&item.at, 40);
        match &item.event {
            E::FollowUp {
                id,
                day,
                sent_at,
                language,
                message,
                while_muted,
            } => {
                k += 1;
                let _ = writeln!(
                    out,
                    "[{k}] follow-up {} · received {} · sent {} (reporter's clock) · language {}{}",
                    short(id),
                    clean_line(day, 10),
                    clean_line(sent_at, 40),
                    clean_line(language, 16),
                    if *while_muted {
                        " · arrived while muted"
                    } else {
                        ""
                    }
                );
                let _ = writeln!(out, "    Message:\n{}", indent(message, 8));
                out.push('\n');
            }
            E::Report { id, day, fields } => {
                k += 1;
                let _ = writeln!(
                    out,
                    "[{k}] report {} · received {} (same thread)",
                    short(id),
                    clean_line(day, 10)
                );
                write_fields(&mut out, fields);
                out.push('\n');
            }
            E::Reply {
                slot,
                from,
                message,
                ..
            } => {
                k += 1;
                let _ = writeln!(
                    out,
                    "[{k}] reply from {} · sent {at} by {by} · slot {slot}",
                    clean_line(from, 80)
                );
                let _ = writeln!(out, "    Message:\n{}", indent(message, 8));
                out.push('\n');
            }
            E::Note { text } => notes.push((at, by, text.clone())),
            E::Status { status } => {
                let _ = writeln!(out, "    · {at} {by} set the status to {status}");
            }
            E::Reopened => {
                let _ = writeln!(
                    out,
                    "    · the follow-up below re-opened the case (status new)"
                );
            }
            E::Assigned { to } => {
                let _ = writeln!(
                    out,
                    "    · {at} {by} assigned it to {}",
                    to.as_deref()
                        .map(|a| clean_line(a, 80))
                        .unwrap_or_else(|| "nobody".into())
                );
            }
            E::Priority { priority } => {
                let _ = writeln!(out, "    · {at} {by} set the priority to {priority}");
            }
            E::Labels { added, removed } => {
                let list = |v: &[String]| {
                    v.iter()
                        .map(|l| clean_line(l, 40))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let mut what = Vec::new();
                if !added.is_empty() {
                    what.push(format!("added label(s) {}", list(added)));
                }
                if !removed.is_empty() {
                    what.push(format!("removed label(s) {}", list(removed)));
                }
                let _ = writeln!(out, "    · {at} {by} {}", what.join(" and "));
            }
            E::Muted { muted } => {
                let _ = writeln!(
                    out,
                    "    · {at} {by} {} the case",
                    if *muted { "muted" } else { "unmuted" }
                );
            }
            E::Graded { grading, reason } => {
                let _ = writeln!(out, "    · {at} {by} graded it {}", grading.code());
                if let Some(r) = reason {
                    let _ = writeln!(out, "      reason:\n{}", indent(r, 8));
                }
            }
            E::IntelReport { reference, .. } => {
                let _ = writeln!(
                    out,
                    "    · {at} {by} wrote the sanitised intelligence report {}",
                    clean_line(reference, 80)
                );
            }
            E::Retained {
                next_review,
                reason,
            } => {
                let _ = writeln!(
                    out,
                    "    · {at} {by} reviewed it for retention and kept it until {}",
                    clean_line(next_review, 10)
                );
                let _ = writeln!(out, "      reason:\n{}", indent(reason, 8));
            }
            E::Disclosed { partner, reference } => {
                let _ = writeln!(
                    out,
                    "    · {at} {by} disclosed {} to {}",
                    clean_line(reference, 80),
                    clean_line(partner, 120)
                );
            }
            E::Thrive { reassessment } => {
                let _ = writeln!(
                    out,
                    "    · {at} {by} made a {} assessment (below)",
                    if *reassessment { "RE-THRIVE" } else { "THRIVE" }
                );
            }
            E::Transferred { to_name } => {
                let _ = writeln!(
                    out,
                    "    · {at} {by} transferred the case to {} (below)",
                    clean_line(to_name, 100)
                );
            }
            E::Forwarded { message, to } => {
                let _ = writeln!(
                    out,
                    "    · {at} message {} passed on to force {}",
                    short(message),
                    clean_line(to, 64)
                );
            }
        }
    }
    write_transfer(&mut out, &v.transfer);
    write_intel(&mut out, &v.intel);
    if notes.is_empty() {
        let _ = writeln!(out, "Notes: none");
    } else {
        let _ = writeln!(out, "Notes:");
        for (at, by, text) in notes {
            let _ = writeln!(out, "  {at} {by}:\n{}", indent(&text, 4));
        }
    }
    out
}

/// Where the case went or came from (issue 17), in words.
fn write_transfer(out: &mut String, t: &crate::desk::CaseTransfer) {
    if let Some(n) = &t.from {
        let _ = writeln!(
            out,
            "Transferred from {} ({}) on {} by {}; their case {}{}",
            clean_line(&n.from_name, 100),
            clean_line(&n.from_force, 64),
            clean_line(&n.day, 10),
            clean_line(&n.by, 80),
            short(&n.case),
            n.grading
                .as_deref()
                .map(|g| format!("; graded {} there", clean_line(g, 10)))
                .unwrap_or_default()
        );
        let _ = writeln!(out, "  reason:\n{}", indent(&n.reason, 4));
    }
    if let Some(to) = &t.to {
        let _ = writeln!(
            out,
            "TRANSFERRED to {} ({}) on {} by {}{}",
            clean_line(&to.to_name, 100),
            clean_line(&to.to, 64),
            clean_line(&to.at, 40),
            clean_line(&to.by, 80),
            to.grading
                .as_deref()
                .map(|g| format!("; graded {} at transfer", clean_line(g, 10)))
                .unwrap_or_default()
        );
        let _ = writeln!(out, "  reason:\n{}", indent(&to.reason, 4));
        let _ = writeln!(out, "  key: {}", clean_line(&to.key_check, 300));
        let _ = writeln!(
            out,
            "  messages passed on: {}{}",
            to.forwarded.len(),
            if to.pending > 0 {
                format!(" ({} not yet: the next pull tries again)", to.pending)
            } else {
                String::new()
            }
        );
        if to.attachments_not_passed > 0 {
            let _ = writeln!(
                out,
                "  attachments not passed on: {} (never stored whole here; the receiving force cannot fetch them)",
                to.attachments_not_passed
            );
        }
    }
}

/// The case's grading and its latest THRIVE assessment (issue 17), in words.
fn write_intel(out: &mut String, intel: &crate::desk::CaseIntel) {
    use crate::intel::{Lang, thrive};
    let _ = match intel.grading() {
        Some(g) => writeln!(out, "Grading: {}  ({})", g.code(), g.words(Lang::En)),
        None => writeln!(out, "Grading: not graded"),
    };
    if let Some(c) = intel.grading().and_then(|g| g.conditions.as_deref()) {
        let _ = writeln!(out, "  Handling conditions:\n{}", indent(c, 4));
    }
    if let Some(d) = &intel.due {
        let _ = writeln!(out, "Response target: {}", d.words());
    }
    if let Some(r) = &intel.review {
        let _ = writeln!(
            out,
            "Retention review: {}{} (closed {}; rule: {}{})",
            r.review_on,
            if r.due { ", DUE" } else { "" },
            r.closed_on,
            r.rule.words(),
            if r.set_by_review {
                "; date set by a review"
            } else {
                ""
            }
        );
    }
    for d in &intel.disclosures {
        let _ = writeln!(
            out,
            "Disclosed {} to {} by {} at {}:\n    Reason:\n{}\n    Handling conditions:\n{}",
            clean_line(&d.reference, 80),
            clean_line(&d.partner, 120),
            clean_line(&d.by, 80),
            clean_line(&d.at, 40),
            indent(&d.reason, 8),
            indent(&d.conditions, 8)
        );
    }
    match intel.thrive() {
        Some(e) => {
            let _ = writeln!(
                out,
                "{} by {} at {}:",
                if e.reassessment {
                    "RE-THRIVE"
                } else {
                    "THRIVE"
                },
                clean_line(&e.by, 80),
                clean_line(&e.at, 40)
            );
            for (k, v) in e.thrive.fields() {
                let _ = writeln!(out, "  {}:\n{}", thrive::label(k, Lang::En), indent(v, 4));
            }
        }
        None => {
            let _ = writeln!(out, "THRIVE: not triaged");
        }
    }
}
