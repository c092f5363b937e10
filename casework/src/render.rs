//! Text for the terminal: `show`'s view of a thread and `list`'s table.
//!
//! It owns the wording and layout, and passes every untrusted string through
//! [`crate::text`] so nothing a reporter wrote can drive the terminal. It does
//! not open anything (see [`crate::thread`]) and does not write HTML or JSON
//! (see [`crate::export`]).

use std::fmt::Write as _;

use quietline_crypto::payload::{Payload, ReportBody};

use crate::records::{Record, RecordBody, Status};
use crate::text::{clean, clean_line, indent};
use crate::thread::{Item, Message, Thread};

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
        ("Category".to_owned(), r.category.clone()),
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
            r.how_known.clone()
        } else {
            format!("{} — {}", r.how_known, r.how_known_details)
        },
    ));
    f
}

fn write_message(out: &mut String, n: usize, m: &Message, focus: &str, status: Option<Status>) {
    let marker = if m.id == focus {
        "  ◀ this report"
    } else {
        ""
    };
    let c = m.payload.common();
    let _ = writeln!(
        out,
        "[{n}] {} {} · received {} · sent {} (reporter's clock) · language {}{marker}",
        m.kind(),
        short(&m.id),
        clean_line(&m.day, 10),
        clean_line(&c.sent_at, 40),
        clean_line(&c.lang, 16)
    );
    if let Some(s) = status {
        let _ = writeln!(out, "    Status: {s}");
    }
    match &m.payload {
        Payload::Report(r) => {
            for (label, value) in report_fields(&r.report) {
                if value.contains('\n') || label == "Details" {
                    let _ = writeln!(out, "    {label}:\n{}", indent(&value, 8));
                } else {
                    let _ = writeln!(out, "    {label}: {}", clean(&value));
                }
            }
            if !r.attachments.is_empty() {
                let _ = writeln!(
                    out,
                    "    Attachments: {} (not supported in v1; ignored)",
                    r.attachments.len()
                );
            }
        }
        Payload::FollowUp(f) => {
            let _ = writeln!(out, "    Message:\n{}", indent(&f.message, 8));
        }
        Payload::Reply(_) => {}
    }
}

fn write_reply(out: &mut String, n: usize, r: &Record) {
    if let RecordBody::Reply {
        slot,
        from,
        message,
        ..
    } = &r.body
    {
        let _ = writeln!(
            out,
            "[{n}] reply from {} · sent {} by {} · slot {slot}",
            clean_line(from, 80),
            clean_line(&r.at, 40),
            clean_line(&r.by, 80)
        );
        let _ = writeln!(out, "    Message:\n{}", indent(message, 8));
    }
}

/// `show`: the report, then the whole thread in order, then the notes.
pub fn show(t: &Thread, force: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Report {} for force {force}", t.focus.id);
    let _ = writeln!(
        out,
        "Thread {} · {} message(s) · status {}",
        short_thread(t.focus.thread_id),
        t.items.len(),
        t.focus_status()
    );
    let _ = writeln!(out, "{}", "─".repeat(72));
    for (i, item) in t.items.iter().enumerate() {
        match item {
            Item::Incoming(m) => write_message(
                &mut out,
                i + 1,
                m,
                &t.focus.id,
                t.status.get(&m.id).copied().filter(|_| m.id != t.focus.id),
            ),
            Item::Reply(r) => write_reply(&mut out, i + 1, r),
        }
        out.push('\n');
    }
    if t.notes.is_empty() {
        let _ = writeln!(out, "Notes: none");
    } else {
        let _ = writeln!(out, "Notes:");
        for n in &t.notes {
            if let RecordBody::Note { text } = &n.body {
                let _ = writeln!(
                    out,
                    "  {} {} on {}:\n{}",
                    clean_line(&n.at, 40),
                    clean_line(&n.by, 80),
                    short(&n.report),
                    indent(text, 4)
                );
            }
        }
    }
    out
}

/// One row of `list`.
#[derive(Debug, Clone)]
pub struct ListRow {
    /// Report id.
    pub id: String,
    /// Server day.
    pub day: String,
    /// Category, or `follow-up`, or `UNREADABLE`.
    pub category: String,
    /// Place (or the flag reason for an unreadable one).
    pub place: String,
    /// First words.
    pub words: String,
    /// Short thread id.
    pub thread: String,
    /// Status.
    pub status: String,
}

impl ListRow {
    /// The row for a message.
    pub fn from_message(m: &Message, status: Status) -> ListRow {
        let (category, place, words) = match &m.payload {
            Payload::Report(r) => (
                r.report.category.clone(),
                if r.report.location.known {
                    r.report.location.description.clone()
                } else {
                    "not known".into()
                },
                r.report.details.clone(),
            ),
            Payload::FollowUp(f) => ("follow-up".to_owned(), String::new(), f.message.clone()),
            Payload::Reply(_) => (String::new(), String::new(), String::new()),
        };
        ListRow {
            id: m.id.clone(),
            day: m.day.clone(),
            category,
            place,
            words,
            thread: short_thread(m.thread_id),
            status: status.to_string(),
        }
    }

    /// Whether `needle` (lowercase) occurs in any text of the row.
    pub fn matches(&self, needle: &str) -> bool {
        [&self.category, &self.place, &self.words, &self.id]
            .iter()
            .any(|s| s.to_lowercase().contains(needle))
    }
}

/// The header line of `list`.
pub fn list_header() -> String {
    format!(
        "{:<12}  {:<10}  {:<12}  {:<20}  {:<32}  {:<8}  {}",
        "ID", "RECEIVED", "CATEGORY", "PLACE", "FIRST WORDS", "THREAD", "STATUS"
    )
}

/// One formatted line of `list`.
pub fn list_line(r: &ListRow) -> String {
    format!(
        "{:<12}  {:<10}  {:<12}  {:<20}  {:<32}  {:<8}  {}",
        short(&r.id),
        clean_line(&r.day, 10),
        clean_line(&r.category, 12),
        clean_line(&r.place, 20),
        clean_line(&r.words, 32),
        r.thread,
        r.status
    )
}
