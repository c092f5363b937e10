//! `export`: one report with its thread, status and notes for the force's
//! records system, as JSON (every field, machine-readable) or as a printable
//! HTML page.
//!
//! It owns the two output formats and HTML escaping. It does not decide where
//! the output goes (the binary writes it to stdout or a 0600 file) and adds no
//! field the payload does not have: the JSON carries each payload exactly as
//! the reporter's page sealed it.

use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};
use serde_json::{Value, json};

use crate::records::{Record, RecordBody};
use crate::render::report_fields;
use crate::thread::{Item, Thread};

/// Export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// JSON: every field of every message, the thread, notes and status history.
    Json,
    /// A self-contained, printable HTML page.
    Html,
}

fn record_json(r: &Record) -> Value {
    // Serializing a plain struct cannot fail.
    serde_json::to_value(r).unwrap_or(Value::Null)
}

/// The JSON export.
pub fn to_json(t: &Thread, force: &str, exported_at: &str, exported_by: &str) -> Value {
    let thread: Vec<Value> = t
        .items
        .iter()
        .map(|i| match i {
            Item::Incoming(m) => json!({
                "direction": "from-reporter",
                "kind": m.kind(),
                "id": m.id,
                "received_day": m.day,
                "key_id": m.key_id,
                "status": t.status.get(&m.id).map(|s| s.as_str()).unwrap_or("new"),
                "payload": serde_json::to_value(&m.payload).unwrap_or(Value::Null),
            }),
            Item::Reply(r) => {
                json!({"direction": "from-force", "kind": "reply", "record": record_json(r)})
            }
        })
        .collect();
    json!({
        "format": "quietline-console/export/v1",
        "force": force,
        "exported_at": exported_at,
        "exported_by": exported_by,
        "report": {
            "id": t.focus.id,
            "received_day": t.focus.day,
            "key_id": t.focus.key_id,
            "thread_id": t.focus.thread_id.map(hex::encode),
            "status": t.focus_status().as_str(),
            "payload": serde_json::to_value(&t.focus.payload).unwrap_or(Value::Null),
        },
        "thread": thread,
        "status_history": t.status_history.iter().map(record_json).collect::<Vec<_>>(),
        "notes": t.notes.iter().map(record_json).collect::<Vec<_>>(),
    })
}

/// A JSON formatter that escapes every character [`crate::text::is_unsafe`]
/// names (DEL, C1 controls such as the 8-bit CSI U+009B, bidirectional
/// overrides and isolates) as `\uXXXX`, so JSON written to a terminal cannot
/// drive it; the data is unchanged for any JSON reader. serde_json escapes
/// U+0000–U+001F itself; everything else is the pretty formatter's.
struct SafeJson(PrettyFormatter<'static>);

impl Formatter for SafeJson {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if crate::text::is_unsafe(c) {
                w.write_all(&fragment.as_bytes()[start..i])?;
                // Every unsafe character is in the Basic Multilingual Plane.
                write!(w, "\\u{:04x}", c as u32)?;
                start = i + c.len_utf8();
            }
        }
        w.write_all(&fragment.as_bytes()[start..])
    }
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// Pretty JSON text with every unsafe character escaped (see [`SafeJson`]),
/// ending in a newline.
pub fn json_text(value: &Value) -> String {
    let mut out = Vec::new();
    let mut ser =
        serde_json::Serializer::with_formatter(&mut out, SafeJson(PrettyFormatter::new()));
    // Serializing a Value into memory cannot fail.
    let _ = value.serialize(&mut ser);
    out.push(b'\n');
    // The serializer writes UTF-8 only.
    String::from_utf8(out).unwrap_or_default()
}

/// ` lang="…"` for a payload's language tag when it has the shape of one
/// (letters, digits and hyphens, at most 35), and nothing otherwise.
fn lang_attr(tag: &str) -> String {
    let ok = !tag.is_empty()
        && tag.len() <= 35
        && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        format!(" lang=\"{tag}\"")
    } else {
        String::new()
    }
}

/// Escape text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters and bidirectional overrides and isolates
            // (crate::text's one test): a reporter's text must not reorder a
            // printed line.
            c if crate::text::is_unsafe(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;color:#0b0c0c;line-height:1.4}\
h1{font-size:1.5rem}h2{font-size:1.2rem;border-top:2px solid #0b0c0c;padding-top:.5rem;margin-top:1.5rem}\
dl{display:grid;grid-template-columns:10rem 1fr;gap:.25rem 1rem}dt{font-weight:bold}dd{margin:0;white-space:pre-wrap}\
.meta{color:#505a5f}.msg{white-space:pre-wrap;border-left:4px solid #b1b4b6;padding-left:.75rem}\
@media print{body{margin:0;max-width:none}h2{break-after:avoid}section{break-inside:avoid}}";

/// The printable HTML export (no script, no external resource).
pub fn to_html(t: &Thread, force: &str, exported_at: &str, exported_by: &str) -> String {
    let mut h = String::new();
    h.push_str("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    h.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">");
    h.push_str(&format!(
        "<title>Quietline report {}</title><style>{STYLE}</style></head><body>\n",
        escape(&t.focus.id)
    ));
    h.push_str(&format!(
        "<h1>Quietline report {}</h1>\n",
        escape(&t.focus.id)
    ));
    h.push_str(&format!(
        "<p class=\"meta\">Force {} · received {} · status {} · thread {} · exported {} by {}</p>\n",
        escape(force),
        escape(&t.focus.day),
        t.focus_status(),
        escape(&t.focus.thread_id.map(hex::encode).unwrap_or_else(|| "-".into())),
        escape(exported_at),
        escape(exported_by)
    ));
    for (i, item) in t.items.iter().enumerate() {
        h.push_str("<section>\n");
        match item {
            Item::Incoming(m) => {
                let c = m.payload.common();
                h.push_str(&format!(
                    "<h2>{}. {} {}</h2>\n",
                    i + 1,
                    m.kind(),
                    escape(&m.id)
                ));
                h.push_str(&format!(
                    "<p class=\"meta\">Received {} · sent {} (reporter's clock) · language {} · status {}</p>\n",
                    escape(&m.day),
                    escape(&c.sent_at),
                    escape(&c.lang),
                    t.status.get(&m.id).map(|s| s.as_str()).unwrap_or("new")
                ));
                // The reporter's words in the language they wrote in (a
                // Welsh report in an English export is marked `lang="cy"`).
                let lang = lang_attr(&c.lang);
                match &m.payload {
                    quietline_crypto::payload::Payload::Report(r) => {
                        h.push_str("<dl>\n");
                        for (label, value) in report_fields(&r.report) {
                            h.push_str(&format!(
                                "<dt>{}</dt><dd{lang}>{}</dd>\n",
                                escape(&label),
                                escape(&value)
                            ));
                        }
                        h.push_str("</dl>\n");
                    }
                    quietline_crypto::payload::Payload::FollowUp(f) => {
                        h.push_str(&format!(
                            "<div class=\"msg\"{lang}>{}</div>\n",
                            escape(&f.message)
                        ));
                    }
                    quietline_crypto::payload::Payload::Reply(_) => {}
                }
            }
            Item::Reply(r) => {
                if let RecordBody::Reply {
                    slot,
                    from,
                    message,
                    ..
                } = &r.body
                {
                    h.push_str(&format!(
                        "<h2>{}. reply from {}</h2>\n",
                        i + 1,
                        escape(from)
                    ));
                    h.push_str(&format!(
                        "<p class=\"meta\">Sent {} by {} · slot {slot}</p>\n",
                        escape(&r.at),
                        escape(&r.by)
                    ));
                    h.push_str(&format!("<div class=\"msg\">{}</div>\n", escape(message)));
                }
            }
        }
        h.push_str("</section>\n");
    }
    h.push_str("<section>\n<h2>Handler notes</h2>\n");
    if t.notes.is_empty() {
        h.push_str("<p>None.</p>\n");
    }
    for n in &t.notes {
        if let RecordBody::Note { text } = &n.body {
            h.push_str(&format!(
                "<p class=\"meta\">{} · {} · on {}</p><div class=\"msg\">{}</div>\n",
                escape(&n.at),
                escape(&n.by),
                escape(&n.report),
                escape(text)
            ));
        }
    }
    h.push_str("</section>\n");
    if !t.status_history.is_empty() {
        h.push_str("<section>\n<h2>Status history</h2>\n<ul>\n");
        for s in &t.status_history {
            if let RecordBody::Status { status } = &s.body {
                h.push_str(&format!(
                    "<li>{} · {} · {status}</li>\n",
                    escape(&s.at),
                    escape(&s.by)
                ));
            }
        }
        h.push_str("</ul>\n</section>\n");
    }
    h.push_str("</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reporters_language_is_marked_only_when_it_is_a_tag() {
        assert_eq!(lang_attr("cy"), " lang=\"cy\"");
        assert_eq!(lang_attr("en-GB"), " lang=\"en-GB\"");
        for bad in ["", "cy\" onload=\"x", "c y", "a".repeat(36).as_str()] {
            assert_eq!(lang_attr(bad), "", "{bad:?}");
        }
    }

    const HOSTILE: &str = "a\u{9b}2Jb\u{9d}0;title\u{7}c\u{7f}d\u{202e}e\u{2066}f\u{1b}[31mg";

    #[test]
    fn json_escapes_c1_del_and_bidi_and_reads_back_the_same() {
        let v = json!({ "text": HOSTILE, "fine": "é\n\t\u{a0}" });
        let text = json_text(&v);
        for c in text.chars() {
            assert!(
                !crate::text::is_unsafe(c) || c == '\n',
                "raw {:04x} in {text:?}",
                c as u32
            );
        }
        for esc in [
            "\\u009b", "\\u009d", "\\u0007", "\\u007f", "\\u202e", "\\u2066", "\\u001b",
        ] {
            assert!(text.contains(esc), "{esc} missing from {text}");
        }
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
        assert!(text.starts_with("{\n  \"fine\": "), "pretty layout: {text}");
    }

    #[test]
    fn html_neutralises_bidi_overrides_and_isolates() {
        let h = escape(HOSTILE);
        for c in [
            '\u{9b}', '\u{9d}', '\u{7f}', '\u{202e}', '\u{2066}', '\u{1b}',
        ] {
            assert!(!h.contains(c), "{:04x} in {h:?}", c as u32);
        }
        for c in '\u{202A}'..='\u{202E}' {
            assert_eq!(escape(&c.to_string()), "\u{FFFD}");
        }
        for c in '\u{2066}'..='\u{2069}' {
            assert_eq!(escape(&c.to_string()), "\u{FFFD}");
        }
    }
}
