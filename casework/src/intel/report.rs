//! The sanitised intelligence report (issue 17) and its signed export.
//!
//! A handler writes it from a case: a title and the intelligence re-worded
//! so that nothing identifies the source; reporter-written text only as
//! lines the handler chose one by one from the case ([`SourceLine`]), never
//! the reply material; the case's current 3x5x2 grading; a protective
//! marking (default `OFFICIAL-SENSITIVE`); a unique reference that points
//! back to the case inside the desk (`QL-<force>-<case short id>-<n>`).
//! Attachments (issue 19) go in only when the handler chooses them
//! ([`check_attachments`]): never a flagged one, and one that may still
//! identify the source only with the handler's explicit confirmation; the
//! report lists each by number, file name, media type, size and SHA-256.
//!
//! It leaves the desk as a versioned JSON file (schema
//! `console/intel-report.schema.json`, described in `console/README.md`) or
//! a printable HTML page, both signed with the force's Ed25519 export key
//! (`crypto/FORMAT.md#intelligence-report-signature`): the signature covers
//! `quietline/v1/intel-report\n` followed by the compact JSON of the file
//! without its `signature` member, fields in the schema's order. The HTML
//! page carries the signed JSON inside it and is re-rendered on
//! verification, so an edit to either is caught.
//!
//! It owns the rules of writing one (what is required, that the handler's
//! text does not copy a reporter's line verbatim), the file formats, signing
//! and verifying. It does no I/O and draws no randomness (the export key is
//! passed in: `casework/src/intel/export_key.rs` keeps it).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::{Grading, Lang, check_text};

/// The `format` of an exported file.
pub const FORMAT: &str = "quietline-intelligence-report";
/// Its `version`.
pub const VERSION: u32 = 1;
/// What precedes the JSON in the signed bytes (domain separation).
pub const SIGNING_CONTEXT: &[u8] = b"quietline/v1/intel-report\n";
/// The longest title, in characters.
pub const MAX_TITLE: usize = 200;
/// The longest intelligence text, in characters.
pub const MAX_TEXT: usize = 20_000;
/// A reporter's line at least this long may not appear verbatim in the
/// handler's own text (choose it as a source line instead, or re-word it).
pub const VERBATIM_MIN: usize = 20;

/// A protective marking (Government Security Classifications).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Marking {
    /// OFFICIAL.
    #[serde(rename = "OFFICIAL")]
    Official,
    /// OFFICIAL-SENSITIVE (the default).
    #[default]
    #[serde(rename = "OFFICIAL-SENSITIVE")]
    OfficialSensitive,
    /// SECRET.
    #[serde(rename = "SECRET")]
    Secret,
}

impl Marking {
    /// Every marking.
    pub const ALL: [Marking; 3] = [
        Marking::Official,
        Marking::OfficialSensitive,
        Marking::Secret,
    ];
    /// As printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Marking::Official => "OFFICIAL",
            Marking::OfficialSensitive => "OFFICIAL-SENSITIVE",
            Marking::Secret => "SECRET",
        }
    }
    /// Parse [`Marking::as_str`].
    pub fn from_name(s: &str) -> Option<Marking> {
        Marking::ALL.into_iter().find(|m| m.as_str() == s.trim())
    }
}

/// A line of reporter-written text the handler chose to copy in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceLine {
    /// Where it is from, in words ("Details", "Follow-up 1").
    pub from: String,
    /// The line, as the reporter wrote it.
    pub text: String,
}

/// A sanitised intelligence report as sealed in the vault (record kind
/// `intel-report`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SanitisedReport {
    /// `QL-<force>-<case short id>-<n>`.
    pub reference: String,
    /// Its number within the case (1, 2, …).
    pub number: u32,
    /// The protective marking.
    pub marking: Marking,
    /// The case's grading when it was written.
    pub grading: Grading,
    /// A short title.
    pub title: String,
    /// The intelligence, re-worded by the handler.
    pub text: String,
    /// Reporter-written lines the handler chose, in the case's order.
    #[serde(default)]
    pub source_lines: Vec<SourceLine>,
    /// The case's attachments the handler chose to include (issue 19), by
    /// number; none unless chosen. Records sealed before this member have none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentJson>,
    /// The report's category, in words.
    pub category: String,
    /// The server's UTC day the report was received.
    pub received_day: String,
}

/// The reference of report `n` of a case.
pub fn reference(force_id: &str, case_short_id: &str, n: u32) -> String {
    format!("QL-{force_id}-{case_short_id}-{n}")
}

/// A category code as people read it (the reporter page's English words).
pub fn category_words(code: &str) -> String {
    const WORDS: [(&str, &str); 14] = [
        ("drugs", "Drugs"),
        ("violence", "Violence or threats"),
        ("sexual", "Sexual offences"),
        ("domestic", "Domestic abuse"),
        ("hate", "Hate crime"),
        ("weapons", "Weapons"),
        ("exploitation", "Exploitation"),
        ("fraud", "Fraud or scams"),
        ("theft", "Theft or stolen goods"),
        ("asb", "Anti-social behaviour"),
        ("terrorism", "Terrorism or extremism"),
        ("corruption", "Corruption"),
        ("driving", "Dangerous or illegal driving"),
        ("other", "Something else"),
    ];
    WORDS
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(code.trim()))
        .map(|(_, w)| (*w).to_owned())
        .unwrap_or_else(|| crate::text::clean_line(code, 60))
}

/// What a handler asks for, before the rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportDraft {
    /// The title.
    pub title: String,
    /// The intelligence, in the handler's words.
    pub text: String,
    /// Indexes into the case's candidate lines ([`SourceLine`]s the page lists).
    pub chosen: Vec<usize>,
    /// `OFFICIAL`, `OFFICIAL-SENSITIVE` (empty: the default) or `SECRET`.
    pub marking: String,
    /// Numbers of the case's attachments to include (issue 19; none by default).
    pub attachments: Vec<u32>,
    /// Numbers of the chosen attachments the handler confirmed do not
    /// identify the source ("I have checked this file…"): required for each
    /// one that may still carry identifying metadata.
    pub checked: Vec<u32>,
}

/// One of the case's attachments as the report form offers it (the desk
/// fills it in from its attachment list; no file content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentOffer {
    /// Its number in the case, from 1.
    pub number: u32,
    /// The file name the export links it by
    /// (`crate::desk::export::attachment_file_name`).
    pub file: String,
    /// Its media type.
    pub media_type: String,
    /// Its size in octets.
    pub size: u64,
    /// SHA-256 of the file as stored (its entry's `sha256_sent`), hex.
    pub sha256: String,
    /// Why it cannot be chosen at all (flagged: missing or altered; not
    /// fetched yet), in the desk's words; `None`: it can be.
    pub refused: Option<String>,
    /// It may still carry metadata that identifies the source (the
    /// reporter's page could not clean it — video, HEIC, PDF… — or the desk
    /// still finds some, or could not read it): choosing it needs the
    /// handler's explicit confirmation.
    pub needs_check: bool,
}

/// Check the attachments a draft chooses against those the case offers.
/// Returns them as the report records them (in number order), or the
/// errors (field `attachments`), naming attachments by number only.
pub fn check_attachments(
    draft: &ReportDraft,
    offered: &[AttachmentOffer],
) -> Result<Vec<AttachmentJson>, Vec<(&'static str, String)>> {
    let mut chosen = draft.attachments.clone();
    chosen.sort_unstable();
    chosen.dedup();
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for n in chosen {
        let Some(a) = offered.iter().find(|a| a.number == n) else {
            errors.push((
                "attachments",
                format!("Attachment {n} is not one of this case's: choose again"),
            ));
            continue;
        };
        if let Some(why) = &a.refused {
            errors.push((
                "attachments",
                format!(
                    "Attachment {n} cannot be included: it is {}",
                    crate::text::clean_line(why, 200)
                ),
            ));
            continue;
        }
        if a.needs_check && !draft.checked.contains(&n) {
            errors.push((
                "attachments",
                format!(
                    "Attachment {n} may still carry details that identify the source: check the file, then tick \"I have checked this file does not identify the source\" to include it"
                ),
            ));
            continue;
        }
        out.push(AttachmentJson {
            number: a.number,
            file: a.file.clone(),
            media_type: a.media_type.clone(),
            size: a.size,
            sha256: a.sha256.clone(),
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Check a draft against the case's candidate lines (every line a reporter
/// wrote, in order). Returns (title, text, chosen lines, marking), or the
/// errors per field (`title`, `text`, `chosen`, `marking`), never quoting.
#[allow(clippy::type_complexity)]
pub fn check_draft(
    draft: &ReportDraft,
    candidates: &[SourceLine],
) -> Result<(String, String, Vec<SourceLine>, Marking), Vec<(&'static str, String)>> {
    let mut errors = Vec::new();
    let title = check_text("a title", &draft.title, MAX_TITLE)
        .map_err(|e| errors.push(("title", capital(&e))))
        .ok();
    let text = check_text("the intelligence, in your own words", &draft.text, MAX_TEXT)
        .map_err(|e| errors.push(("text", capital(&e))))
        .ok();
    if let Some(t) = &text {
        let lower = t.to_lowercase();
        if let Some(c) = candidates.iter().find(|c| {
            c.text.trim().chars().count() >= VERBATIM_MIN
                && lower.contains(&c.text.trim().to_lowercase())
        }) {
            errors.push((
                "text",
                format!(
                    "Your text copies a line the reporter wrote (from {}) word for word: re-word it, or choose the line below to copy it in as the reporter's words",
                    crate::text::clean_line(&c.from, 40)
                ),
            ));
        }
    }
    let mut chosen: Vec<usize> = draft.chosen.clone();
    chosen.sort_unstable();
    chosen.dedup();
    if chosen.iter().any(|i| *i >= candidates.len()) {
        errors.push((
            "chosen",
            "A line you chose is no longer in the case: choose again".to_owned(),
        ));
    }
    let marking = if draft.marking.trim().is_empty() {
        Some(Marking::default())
    } else {
        Marking::from_name(&draft.marking)
    };
    if marking.is_none() {
        errors.push((
            "marking",
            "Choose a protective marking: OFFICIAL, OFFICIAL-SENSITIVE or SECRET".to_owned(),
        ));
    }
    match (title, text, marking) {
        (Some(title), Some(text), Some(marking)) if errors.is_empty() => Ok((
            title,
            text,
            chosen.into_iter().map(|i| candidates[i].clone()).collect(),
            marking,
        )),
        _ => Err(errors),
    }
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The force, as an export names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForceJson {
    /// Its id on the platform.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// The grading in words (exports speak words, not codes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradingJson {
    /// `2 B P`.
    pub code: String,
    /// `2: Untested`.
    pub source_evaluation: String,
    /// `B: Known indirectly to the source but corroborated`.
    pub intelligence_assessment: String,
    /// `P: Lawful sharing permitted`.
    pub handling_code: String,
    /// The conditions of a C.
    pub handling_conditions: Option<String>,
}

impl GradingJson {
    /// The words of a grading.
    pub fn of(g: &Grading) -> GradingJson {
        GradingJson {
            code: g.code(),
            source_evaluation: format!("{}: {}", g.source.code(), g.source.label(Lang::En)),
            intelligence_assessment: format!(
                "{}: {}",
                g.assessment.code(),
                g.assessment.label(Lang::En)
            ),
            handling_code: format!("{}: {}", g.handling.code(), g.handling.label(Lang::En)),
            handling_conditions: g.conditions.clone(),
        }
    }
}

/// The report as exported (schema version 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportJson {
    /// `QL-<force>-<case short id>-<n>`: finds the case in the desk.
    pub reference: String,
    /// `OFFICIAL`, `OFFICIAL-SENSITIVE` or `SECRET`.
    pub protective_marking: String,
    /// The force.
    pub force: ForceJson,
    /// The title.
    pub title: String,
    /// The category, in words.
    pub category: String,
    /// The grading, in words.
    pub grading: GradingJson,
    /// The intelligence, in the handler's words.
    pub intelligence: String,
    /// Reporter-written lines the handler chose, marked as such.
    pub source_lines: Vec<SourceLine>,
    /// The case's attachments the handler chose to include (issue 19),
    /// saved beside the file under `file`. Absent (not serialised at all)
    /// when none was chosen, so such files sign exactly as before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentJson>,
    /// The server's UTC day the report was received (`YYYY-MM-DD`).
    pub received_day: String,
    /// Who wrote this report (account).
    pub written_by: String,
    /// When (RFC 3339, UTC).
    pub written_at: String,
    /// Who exported it.
    pub exported_by: String,
    /// When (RFC 3339, UTC).
    pub exported_at: String,
    /// The zone of every time in the file: `UTC`.
    pub time_zone: String,
    /// Present when the report was disclosed to a partner outside the
    /// platform: to whom, why and the handling conditions they must keep to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disclosure: Option<DisclosureJson>,
}

/// An attachment included in the report (issue 19): what it is and the
/// hash of its octets, signed with the rest, so a swapped file is caught by
/// comparing its SHA-256. Never its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentJson {
    /// Its number in the case, from 1.
    pub number: u32,
    /// The file name it is saved (and linked) under.
    pub file: String,
    /// Its media type.
    pub media_type: String,
    /// Its size in octets.
    pub size: u64,
    /// SHA-256 of the file as stored (lowercase hex).
    pub sha256: String,
}

/// A disclosure to a partner outside the platform (issue 17).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisclosureJson {
    /// The partner, e.g. "Local authority safeguarding team".
    pub partner: String,
    /// Why it was disclosed.
    pub purpose: String,
    /// The handling conditions the partner must keep to.
    pub handling_conditions: String,
    /// The supervisor who authorised it (account).
    pub authorised_by: String,
    /// When (RFC 3339, UTC).
    pub disclosed_at: String,
}

/// The signature member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureJson {
    /// `Ed25519`.
    pub algorithm: String,
    /// The export key's public half (32 bytes, base64url without padding).
    pub public_key: String,
    /// Its fingerprint ([`fingerprint`]), to compare with the pinned one.
    pub key_fingerprint: String,
    /// The signature (64 bytes, base64url without padding).
    pub value: String,
}

/// A whole exported file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportFile {
    /// [`FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// The report.
    pub report: ReportJson,
    /// The signature over the rest.
    pub signature: SignatureJson,
}

#[derive(Serialize)]
struct Unsigned<'a> {
    format: &'a str,
    version: u32,
    report: &'a ReportJson,
}

/// The bytes the signature covers.
pub fn signed_bytes(report: &ReportJson) -> Vec<u8> {
    let mut out = SIGNING_CONTEXT.to_vec();
    // A struct of strings and numbers: serde_json writes it the same way
    // every time, in field order.
    out.extend(
        serde_json::to_vec(&Unsigned {
            format: FORMAT,
            version: VERSION,
            report,
        })
        .unwrap_or_default(),
    );
    out
}

/// A public key's fingerprint: the first 16 bytes of its SHA-256, hex in
/// groups of four (what a records team pins and reads out).
pub fn fingerprint(public: &[u8; 32]) -> String {
    use sha2::Digest;
    let h = sha2::Sha256::digest(public);
    hex::encode(&h[..16])
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(":")
}

/// An export key's public half as written (base64url, 32 bytes).
pub fn parse_public_key(s: &str) -> Option<[u8; 32]> {
    B64.decode(s.trim()).ok().and_then(|b| b.try_into().ok())
}

/// Sign `report` with the export key.
pub fn sign(key: &SigningKey, report: ReportJson) -> ExportFile {
    let sig: Signature = key.sign(&signed_bytes(&report));
    let public = key.verifying_key().to_bytes();
    ExportFile {
        format: FORMAT.to_owned(),
        version: VERSION,
        report,
        signature: SignatureJson {
            algorithm: "Ed25519".to_owned(),
            public_key: B64.encode(public),
            key_fingerprint: fingerprint(&public),
            value: B64.encode(sig.to_bytes()),
        },
    }
}

/// The JSON file's text.
pub fn to_json(file: &ExportFile) -> String {
    serde_json::to_string_pretty(file).unwrap_or_default() + "\n"
}

/// Why a file does not verify.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    /// Not an export of this format and version (or changed in shape).
    #[error("not a Quietline intelligence report of format version 1 ({0})")]
    NotAnExport(String),
    /// The signature does not match the content: something was changed.
    #[error(
        "the signature does not match: the file was changed after it was signed, or was not signed by this key"
    )]
    BadSignature,
    /// The HTML page's visible text is not what its signed content renders to.
    #[error("the printable page was changed: its text is not what its signed content shows")]
    PageChanged,
    /// Signed by another key than the pinned one.
    #[error("signed by the key {found}, not by the pinned key {pinned}")]
    NotPinned {
        /// The file's key fingerprint.
        found: String,
        /// The pinned key's fingerprint.
        pinned: String,
    },
}

/// Verify an exported file (JSON, or the printable HTML page) against its
/// own key and, if given, the pinned public key. Returns the file.
pub fn verify(bytes: &[u8], pinned: Option<&[u8; 32]>) -> Result<ExportFile, VerifyError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| VerifyError::NotAnExport("not UTF-8 text".into()))?;
    let (file, html) = if text.trim_start().starts_with('{') {
        (parse(text)?, false)
    } else {
        let json = embedded_json(text)
            .ok_or_else(|| VerifyError::NotAnExport("no signed content in the page".into()))?;
        (parse(&json)?, true)
    };
    if file.format != FORMAT || file.version != VERSION || file.signature.algorithm != "Ed25519" {
        return Err(VerifyError::NotAnExport(
            "another format, version or algorithm".into(),
        ));
    }
    let public: [u8; 32] = B64
        .decode(&file.signature.public_key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| VerifyError::NotAnExport("the public key is not 32 bytes".into()))?;
    let sig: [u8; 64] = B64
        .decode(&file.signature.value)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| VerifyError::NotAnExport("the signature is not 64 bytes".into()))?;
    let key = VerifyingKey::from_bytes(&public).map_err(|_| VerifyError::BadSignature)?;
    key.verify_strict(&signed_bytes(&file.report), &Signature::from_bytes(&sig))
        .map_err(|_| VerifyError::BadSignature)?;
    if file.signature.key_fingerprint != fingerprint(&public) {
        return Err(VerifyError::BadSignature);
    }
    if let Some(p) = pinned
        && p != &public
    {
        return Err(VerifyError::NotPinned {
            found: fingerprint(&public),
            pinned: fingerprint(p),
        });
    }
    if html && render_html(&file) != text {
        return Err(VerifyError::PageChanged);
    }
    Ok(file)
}

fn parse(json: &str) -> Result<ExportFile, VerifyError> {
    serde_json::from_str(json).map_err(|e| {
        // serde's words name a field or a position, never a value.
        VerifyError::NotAnExport(format!("line {}, column {}", e.line(), e.column()))
    })
}

const JSON_OPEN: &str = "<script type=\"application/json\" id=\"signed-report\">";

fn embedded_json(html: &str) -> Option<String> {
    let start = html.find(JSON_OPEN)? + JSON_OPEN.len();
    let end = start + html[start..].find("</script>")?;
    // `<` was escaped as \u003c when embedding.
    Some(html[start..end].to_owned())
}

fn esc(s: &str) -> String {
    let s = crate::text::clean(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn paragraphs(s: &str) -> String {
    s.lines().map(esc).collect::<Vec<_>>().join("<br>\n")
}

/// The printable page: marking and grading at the top and the bottom, the
/// signed JSON inside (checked by [`verify`], which renders it again).
pub fn render_html(file: &ExportFile) -> String {
    let r = &file.report;
    let banner = format!(
        "<p class=\"marking\">{} — graded {}</p>",
        esc(&r.protective_marking),
        esc(&r.grading.code)
    );
    let mut lines = String::new();
    for l in &r.source_lines {
        lines.push_str(&format!(
            "<li><span class=\"from\">{}</span>: <q>{}</q></li>\n",
            esc(&l.from),
            esc(&l.text)
        ));
    }
    let mut files = String::new();
    for a in &r.attachments {
        files.push_str(&format!(
            "<li>{}. <a href=\"{file}\">{file}</a> · {} · {} bytes · SHA-256 <code>{}</code></li>\n",
            a.number,
            esc(&a.media_type),
            a.size,
            esc(&a.sha256),
            file = esc(&a.file),
        ));
    }
    let files_block = if files.is_empty() {
        String::new()
    } else {
        format!(
            "<h2>Attachments</h2>\n<p>Chosen by the handler; the files are saved beside this page under these names.</p>\n<ul>\n{files}</ul>\n"
        )
    };
    let conditions = r
        .grading
        .handling_conditions
        .as_deref()
        .map(|c| format!("<dt>Handling conditions</dt><dd>{}</dd>\n", paragraphs(c)))
        .unwrap_or_default();
    let disclosure = r
        .disclosure
        .as_ref()
        .map(|d| {
            format!(
                "<h2>Disclosure</h2>\n<dl>\n<dt>Disclosed to</dt><dd>{}</dd>\n<dt>Purpose</dt><dd>{}</dd>\n<dt>Handling conditions for the recipient</dt><dd>{}</dd>\n<dt>Authorised by</dt><dd>{}, {} (UTC)</dd>\n</dl>\n",
                esc(&d.partner),
                paragraphs(&d.purpose),
                paragraphs(&d.handling_conditions),
                esc(&d.authorised_by),
                esc(&d.disclosed_at)
            )
        })
        .unwrap_or_default();
    // The JSON is embedded with `<`, `>` and `&` escaped, so no text in it
    // can close the script element.
    let json = to_json(file)
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    format!(
        "<!DOCTYPE html>
<html lang=\"en\">
<head>
<meta charset=\"utf-8\">
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">
<title>{marking} — Intelligence report {reference}</title>
<style>body{{font-family:Arial,sans-serif;max-width:48em;margin:2em auto;color:#0b0c0c}}.marking{{text-align:center;font-weight:bold;border:2px solid #0b0c0c;padding:.3em}}dt{{font-weight:bold;margin-top:.6em}}q{{font-style:italic}}</style>
</head>
<body>
{banner}
<h1>Intelligence report {reference}</h1>
<p>{force}. Sanitised: re-worded so that nothing identifies the source. Lines in quotation marks are the source's own words, chosen one by one.</p>
<dl>
<dt>Title</dt><dd>{title}</dd>
<dt>Category</dt><dd>{category}</dd>
<dt>Grading</dt><dd>{code}: {source}; {assessment}; {handling}</dd>
{conditions}<dt>Received</dt><dd>{received} (UTC day)</dd>
<dt>Written by</dt><dd>{written_by}, {written_at} (UTC)</dd>
<dt>Exported by</dt><dd>{exported_by}, {exported_at} (UTC)</dd>
</dl>
{disclosure}<h2>Intelligence</h2>
<p>{text}</p>
<h2>The source's own words</h2>
{lines_block}
{files_block}<h2>Signature</h2>
<p>Signed by the force's export key {fp} (Ed25519). Check it with <code>quietline-console export verify FILE --public-key KEY</code>.</p>
{banner}
{json_open}{json}</script>
</body>
</html>
",
        marking = esc(&r.protective_marking),
        reference = esc(&r.reference),
        force = esc(&format!("{} ({})", r.force.name, r.force.id)),
        title = esc(&r.title),
        category = esc(&r.category),
        code = esc(&r.grading.code),
        source = esc(&r.grading.source_evaluation),
        assessment = esc(&r.grading.intelligence_assessment),
        handling = esc(&r.grading.handling_code),
        received = esc(&r.received_day),
        written_by = esc(&r.written_by),
        written_at = esc(&r.written_at),
        exported_by = esc(&r.exported_by),
        exported_at = esc(&r.exported_at),
        text = paragraphs(&r.intelligence),
        lines_block = if lines.is_empty() {
            "<p>None.</p>".to_owned()
        } else {
            format!("<ul>\n{lines}</ul>")
        },
        fp = esc(&file.signature.key_fingerprint),
        json_open = JSON_OPEN,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intel::{Assessment, HandlingCode, SourceEvaluation};

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    fn report() -> ReportJson {
        let g = Grading {
            source: SourceEvaluation::Untested,
            assessment: Assessment::B,
            handling: HandlingCode::C,
            conditions: Some("Not outside the force".into()),
        };
        ReportJson {
            reference: reference("north", "0226fa6ca338", 1),
            protective_marking: Marking::default().as_str().into(),
            force: ForceJson {
                id: "north".into(),
                name: "North Shire Police".into(),
            },
            title: "Drug supply, Mill Lane".into(),
            category: category_words("drugs"),
            grading: GradingJson::of(&g),
            intelligence: "A male supplies drugs from a silver car\nmost nights.".into(),
            source_lines: vec![SourceLine {
                from: "Details".into(),
                text: "behind the Co-op".into(),
            }],
            attachments: Vec::new(),
            received_day: "2026-12-07".into(),
            written_by: "ann".into(),
            written_at: "2026-12-07T10:00:00Z".into(),
            exported_by: "ann".into(),
            exported_at: "2026-12-07T10:05:00Z".into(),
            time_zone: "UTC".into(),
            disclosure: None,
        }
    }

    #[test]
    fn a_signed_json_export_verifies_and_fails_on_any_edit() {
        let file = sign(&key(), report());
        let json = to_json(&file);
        let pk = key().verifying_key().to_bytes();
        assert_eq!(verify(json.as_bytes(), Some(&pk)).unwrap(), file);
        assert_eq!(verify(json.as_bytes(), None).unwrap(), file);
        // Every value changed by one character fails.
        for (from, to) in [
            ("OFFICIAL-SENSITIVE", "OFFICIAL"),
            ("2 B C", "1 A P"),
            ("silver", "silvex"),
            ("behind the Co-op", "behind the Co-op!"),
            ("2026-12-07T10:00:00Z", "2026-12-07T11:00:00Z"),
            ("\"ann\"", "\"bob\""),
        ] {
            let edited = json.replacen(from, to, 1);
            assert_ne!(edited, json, "{from}");
            assert!(
                matches!(
                    verify(edited.as_bytes(), None),
                    Err(VerifyError::BadSignature)
                ),
                "{from} -> {to}"
            );
        }
        // An added field is refused; another pinned key is refused.
        let added = json.replacen("\"time_zone\"", "\"extra\": 1,\n    \"time_zone\"", 1);
        assert!(matches!(
            verify(added.as_bytes(), None),
            Err(VerifyError::NotAnExport(_))
        ));
        let other = SigningKey::from_bytes(&[9u8; 32])
            .verifying_key()
            .to_bytes();
        assert!(matches!(
            verify(json.as_bytes(), Some(&other)),
            Err(VerifyError::NotPinned { .. })
        ));
        // Re-signed by another key: valid on its own, refused against the pin.
        let forged = to_json(&sign(&SigningKey::from_bytes(&[9u8; 32]), report()));
        assert!(verify(forged.as_bytes(), None).is_ok());
        assert!(verify(forged.as_bytes(), Some(&pk)).is_err());
    }

    #[test]
    fn the_printable_page_carries_marking_and_grading_top_and_bottom_and_verifies() {
        let mut r = report();
        r.intelligence = r.intelligence.replace("car", "car <b>");
        let file = sign(&key(), r);
        let html = render_html(&file);
        assert_eq!(html.matches("OFFICIAL-SENSITIVE — graded 2 B C").count(), 2);
        assert!(html.contains("&lt;b&gt;"), "escaped");
        assert!(!html.contains("<b>"));
        assert!(html.contains("Drugs"));
        assert!(html.contains("(UTC)"));
        let pk = key().verifying_key().to_bytes();
        assert_eq!(verify(html.as_bytes(), Some(&pk)).unwrap(), file);
        let edited = html.replacen("most nights", "every night", 1);
        assert_eq!(
            verify(edited.as_bytes(), None),
            Err(VerifyError::PageChanged)
        );
        let edited = html.replacen("silver car", "red car", 2);
        assert!(verify(edited.as_bytes(), None).is_err());
    }

    #[test]
    fn a_draft_needs_its_words_and_never_copies_a_reporter_s_line_unless_chosen() {
        let candidates = vec![
            SourceLine {
                from: "Details".into(),
                text: "Dealing from a silver Ford Focus behind the Co-op".into(),
            },
            SourceLine {
                from: "Where".into(),
                text: "Mill Lane".into(),
            },
        ];
        let draft = ReportDraft {
            title: "Supply".into(),
            text: "A male is DEALING FROM A SILVER FORD FOCUS BEHIND THE CO-OP nightly".into(),
            chosen: vec![],
            marking: String::new(),
            ..ReportDraft::default()
        };
        let e = check_draft(&draft, &candidates).unwrap_err();
        assert_eq!(e[0].0, "text");
        assert!(e[0].1.contains("from Details"));
        assert!(!e[0].1.contains("Ford"), "never quoted");
        let draft = ReportDraft {
            text: "A male supplies drugs from a car in the area".into(),
            chosen: vec![1, 1],
            ..draft
        };
        let (title, _, lines, marking) = check_draft(&draft, &candidates).unwrap();
        assert_eq!(title, "Supply");
        assert_eq!(
            lines,
            vec![candidates[1].clone()],
            "only the chosen line, once"
        );
        assert_eq!(marking, Marking::OfficialSensitive, "the default");
        let bad = ReportDraft {
            title: " ".into(),
            text: "x".into(),
            chosen: vec![5],
            marking: "TOP".into(),
            ..ReportDraft::default()
        };
        let fields: Vec<&str> = check_draft(&bad, &candidates)
            .unwrap_err()
            .iter()
            .map(|(f, _)| *f)
            .collect();
        assert_eq!(fields, ["title", "chosen", "marking"]);
    }

    /// `console/intel-report.example.json` is a real export signed by the
    /// test key `[7; 32]` (regenerate with QUIETLINE_WRITE_EXAMPLE=1).
    #[test]
    fn the_documented_example_is_a_valid_signed_export() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../console/intel-report.example.json"
        );
        let json = to_json(&sign(&key(), report()));
        if std::env::var_os("QUIETLINE_WRITE_EXAMPLE").is_some() {
            std::fs::write(path, &json).unwrap();
        }
        let on_disk = std::fs::read_to_string(path).unwrap();
        assert_eq!(on_disk, json, "regenerate with QUIETLINE_WRITE_EXAMPLE=1");
        verify(on_disk.as_bytes(), Some(&key().verifying_key().to_bytes())).unwrap();
        // Every member the schema requires is in the example.
        let schema: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../console/intel-report.schema.json"
            ))
            .unwrap(),
        )
        .unwrap();
        let example: serde_json::Value = serde_json::from_str(&on_disk).unwrap();
        fn check(schema: &serde_json::Value, value: &serde_json::Value, at: &str) {
            if let Some(req) = schema["required"].as_array() {
                for r in req {
                    let k = r.as_str().unwrap();
                    assert!(value.get(k).is_some(), "{at}.{k} missing from the example");
                    check(&schema["properties"][k], &value[k], &format!("{at}.{k}"));
                }
                let props = schema["properties"].as_object().unwrap();
                for k in value.as_object().unwrap().keys() {
                    assert!(props.contains_key(k), "{at}.{k} is not in the schema");
                }
            }
        }
        check(&schema, &example, "$");
    }

    #[test]
    fn a_disclosure_is_signed_with_the_report_and_shown_on_the_page() {
        let mut r = report();
        r.disclosure = Some(DisclosureJson {
            partner: "Local authority safeguarding team".into(),
            purpose: "Safeguarding referral".into(),
            handling_conditions: "Not to be shared further".into(),
            authorised_by: "sam".into(),
            disclosed_at: "2026-12-07T10:06:00Z".into(),
        });
        let file = sign(&key(), r);
        let json = to_json(&file);
        assert!(json.contains("\"handling_conditions\": \"Not to be shared further\""));
        verify(json.as_bytes(), None).unwrap();
        // The conditions are signed: loosening them breaks the signature.
        let edited = json.replace("Not to be shared further", "Share freely");
        assert_eq!(
            verify(edited.as_bytes(), None).unwrap_err(),
            VerifyError::BadSignature
        );
        let html = render_html(&file);
        assert!(html.contains("<dt>Disclosed to</dt><dd>Local authority safeguarding team</dd>"));
        verify(html.as_bytes(), None).unwrap();
        // Without a disclosure the member is absent, as before.
        assert!(!to_json(&sign(&key(), report())).contains("disclosure"));
    }

    fn offers() -> Vec<AttachmentOffer> {
        let offer =
            |number: u32, media_type: &str, refused: Option<&str>, needs_check| AttachmentOffer {
                number,
                file: format!("quietline-case-0226fa6ca338-attachment-{number}.bin"),
                media_type: media_type.into(),
                size: 1000 + u64::from(number),
                sha256: format!("{number:02x}").repeat(32),
                refused: refused.map(str::to_owned),
                needs_check,
            };
        vec![
            offer(1, "image/jpeg", None, false),
            offer(2, "image/png", Some("flagged: the file was altered"), false),
            offer(3, "video/mp4", None, true),
        ]
    }

    #[test]
    fn attachments_are_included_only_when_chosen_never_a_flagged_one_and_an_uncleaned_one_only_when_checked()
     {
        let offered = offers();
        let none = ReportDraft::default();
        assert_eq!(check_attachments(&none, &offered).unwrap(), vec![]);
        // Chosen twice, listed once.
        let one = ReportDraft {
            attachments: vec![1, 1],
            ..ReportDraft::default()
        };
        let got = check_attachments(&one, &offered).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].number, 1);
        assert_eq!(got[0].sha256, "01".repeat(32));
        assert_eq!(got[0].file, offered[0].file);
        // A flagged one: refused, even if "checked".
        let flagged = ReportDraft {
            attachments: vec![2],
            checked: vec![2],
            ..ReportDraft::default()
        };
        let e = check_attachments(&flagged, &offered).unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].0, "attachments");
        assert!(e[0].1.contains("Attachment 2 cannot be included"), "{e:?}");
        // One that may still identify the source: refused without the
        // confirmation, included with it.
        let video = ReportDraft {
            attachments: vec![3],
            ..ReportDraft::default()
        };
        let e = check_attachments(&video, &offered).unwrap_err();
        assert!(e[0].1.contains("I have checked this file"), "{e:?}");
        // A confirmation for another file does not count.
        let wrong = ReportDraft {
            attachments: vec![3],
            checked: vec![1],
            ..ReportDraft::default()
        };
        assert!(check_attachments(&wrong, &offered).is_err());
        let checked = ReportDraft {
            attachments: vec![3, 1],
            checked: vec![3],
            ..ReportDraft::default()
        };
        let got = check_attachments(&checked, &offered).unwrap();
        assert_eq!(
            got.iter().map(|a| a.number).collect::<Vec<_>>(),
            [1, 3],
            "in number order"
        );
        // Not one of the case's.
        let gone = ReportDraft {
            attachments: vec![9],
            ..ReportDraft::default()
        };
        assert!(
            check_attachments(&gone, &offered).unwrap_err()[0]
                .1
                .contains("Attachment 9")
        );
    }

    #[test]
    fn the_signature_covers_the_attachments_and_the_page_links_them() {
        let mut r = report();
        let chosen = ReportDraft {
            attachments: vec![1],
            ..ReportDraft::default()
        };
        r.attachments = check_attachments(&chosen, &offers()).unwrap();
        let file = sign(&key(), r);
        let json = to_json(&file);
        assert!(json.contains("\"attachments\": ["), "{json}");
        assert!(!json.contains("\"key\""), "never an attachment's key");
        let pk = key().verifying_key().to_bytes();
        assert_eq!(verify(json.as_bytes(), Some(&pk)).unwrap(), file);
        // Tampering with a listed hash, size, name or number fails.
        for (from, to) in [
            ("01".repeat(32), format!("02{}", "01".repeat(31))),
            ("1001".into(), "1002".into()),
            ("attachment-1.bin".into(), "attachment-2.bin".into()),
            ("\"number\": 1".into(), "\"number\": 2".into()),
        ] {
            let edited = json.replacen(&from, &to, 1);
            assert_ne!(edited, json, "{from}");
            assert_eq!(
                verify(edited.as_bytes(), None).unwrap_err(),
                VerifyError::BadSignature,
                "{from} -> {to}"
            );
        }
        // Dropping the list fails too.
        let mut dropped: serde_json::Value = serde_json::from_str(&json).unwrap();
        dropped["report"]
            .as_object_mut()
            .unwrap()
            .remove("attachments");
        let dropped = serde_json::to_string_pretty(&dropped).unwrap();
        assert_eq!(
            verify(dropped.as_bytes(), None).unwrap_err(),
            VerifyError::BadSignature
        );
        // The page lists and links each by its file name, and verifies.
        let html = render_html(&file);
        let name = &offers()[0].file;
        assert!(
            html.contains(&format!("<a href=\"{name}\">{name}</a>")),
            "{html}"
        );
        assert_eq!(verify(html.as_bytes(), Some(&pk)).unwrap(), file);
        // Without attachments the member is absent and the page has no
        // section: files written before sign and render exactly as before.
        let plain = sign(&key(), report());
        assert!(!to_json(&plain).contains("attachments"));
        assert!(!render_html(&plain).contains("<h2>Attachments</h2>"));
    }

    #[test]
    fn categories_in_words() {
        assert_eq!(category_words("drugs"), "Drugs");
        assert_eq!(category_words("asb"), "Anti-social behaviour");
        assert_eq!(category_words("new-thing"), "new-thing");
    }
}
