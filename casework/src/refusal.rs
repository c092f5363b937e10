//! Why a decrypted payload (or a sealed handler record) was refused, in words
//! that never quote it.
//!
//! A parser's own error message is no use here: serde echoes the value it
//! rejected (`unknown variant "…"`, `invalid type: string "…"`, `invalid
//! value: integer 123…`), and the reason is stored readable in the vault,
//! printed by `pull` and `list`, and shown in errors. So when the typed parse
//! fails, this module walks the JSON again against the v1 schema and names
//! the first member that breaks a rule. Every word of a [`Refusal`] comes from
//! the schema tables below (member names, rules) or is an array index: nothing
//! from the decrypted bytes — no value, no unknown member name, not even a
//! number — can reach it, by construction.
//!
//! It does not decide whether a payload is valid: the typed parse in
//! `quietline_crypto::payload` (or [`crate::records`]) does. This module only
//! explains a refusal that has already happened.

use serde_json::Value;

/// Why decrypted JSON was refused: a member (a path built only from schema
/// names and array indices) and the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    field: String,
    rule: &'static str,
}

impl Refusal {
    fn new(field: String, rule: &'static str) -> Refusal {
        Refusal { field, rule }
    }
    /// A refusal about the whole document, not one member.
    pub fn whole(rule: &'static str) -> Refusal {
        Refusal {
            field: String::new(),
            rule,
        }
    }
    /// A refusal naming one member (a schema name, never text from the payload).
    pub fn member(field: &'static str, rule: &'static str) -> Refusal {
        Refusal {
            field: field.to_owned(),
            rule,
        }
    }
    /// The member, e.g. `report.people[1].name` (empty for the whole document).
    pub fn field(&self) -> &str {
        &self.field
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() {
            f.write_str(self.rule)
        } else {
            write!(f, "member `{}` {}", self.field, self.rule)
        }
    }
}

/// The JSON type a member must have.
enum Ty {
    Str,
    /// A string or `null`.
    OptStr,
    Bool,
    /// A whole number from 0 to `u32::MAX`.
    U32,
    Obj(&'static [Member]),
    Arr(&'static Ty),
}

struct Member {
    name: &'static str,
    ty: Ty,
    required: bool,
}

const fn req(name: &'static str, ty: Ty) -> Member {
    Member {
        name,
        ty,
        required: true,
    }
}
const fn opt(name: &'static str, ty: Ty) -> Member {
    Member {
        name,
        ty,
        required: false,
    }
}

// The v1 payload schema (crypto/FORMAT.md#payloads), as the typed parser in
// `quietline_crypto::payload` reads it.
const COMMON: &[Member] = &[req("sent_at", Ty::Str), req("lang", Ty::Str)];
const KNOWN: &[Member] = &[req("known", Ty::Bool), opt("description", Ty::Str)];
const WHEN: &[Member] = &[
    req("known", Ty::Bool),
    opt("date", Ty::OptStr),
    opt("time", Ty::OptStr),
    opt("ongoing", Ty::Bool),
    opt("ongoing_unknown", Ty::Bool),
    opt("description", Ty::Str),
];
const PERSON: &[Member] = &[opt("name", Ty::Str), opt("description", Ty::Str)];
const VEHICLE: &[Member] = &[
    opt("registration", Ty::Str),
    opt("make_model", Ty::Str),
    opt("colour", Ty::Str),
    opt("description", Ty::Str),
];
const REPORT_BODY: &[Member] = &[
    req("category", Ty::Str),
    req("details", Ty::Str),
    req("where", Ty::Obj(KNOWN)),
    req("when", Ty::Obj(WHEN)),
    opt("people", Ty::Arr(&Ty::Obj(PERSON))),
    opt("vehicles", Ty::Arr(&Ty::Obj(VEHICLE))),
    req("how_known", Ty::Str),
    opt("how_known_details", Ty::Str),
];
const ATTACHMENT: &[Member] = &[req("id", Ty::Str)];
const REPLY_MATERIAL: &[Member] = &[
    req("public_key", Ty::Str),
    req("thread_id", Ty::Str),
    req("slot_key", Ty::Str),
];
const REPORT: &[Member] = &[
    req("report", Ty::Obj(REPORT_BODY)),
    opt("attachments", Ty::Arr(&Ty::Obj(ATTACHMENT))),
    req("reply", Ty::Obj(REPLY_MATERIAL)),
];
const FOLLOW_UP: &[Member] = &[
    req("message", Ty::Str),
    opt("attachments", Ty::Arr(&Ty::Obj(ATTACHMENT))),
    req("reply", Ty::Obj(REPLY_MATERIAL)),
];
const REPLY: &[Member] = &[req("from", Ty::Str), req("message", Ty::Str)];

// The console's own sealed records (crate::records).
const RECORD_COMMON: &[Member] = &[
    req("report", Ty::Str),
    req("at", Ty::Str),
    req("by", Ty::Str),
];
const NOTE: &[Member] = &[req("text", Ty::Str)];
const STATUS: &[Member] = &[req("status", Ty::Str)];
const RECORD_REPLY: &[Member] = &[
    req("thread", Ty::Str),
    req("slot", Ty::U32),
    req("from", Ty::Str),
    req("message", Ty::Str),
];

/// Check `value` against `ty`; the first problem, with its path.
fn check(value: &Value, ty: &Ty, path: &str) -> Option<Refusal> {
    let bad = |rule| Some(Refusal::new(path.to_owned(), rule));
    match ty {
        Ty::Str if !value.is_string() => bad("must be a string"),
        Ty::OptStr if !value.is_string() && !value.is_null() => bad("must be a string or null"),
        Ty::Bool if !value.is_boolean() => bad("must be true or false"),
        Ty::Str | Ty::OptStr | Ty::Bool => None,
        Ty::U32 => match value.as_u64() {
            Some(n) if n <= u64::from(u32::MAX) => None,
            Some(_) => bad("is a whole number larger than 4294967295"),
            None => bad("must be a whole number from 0 to 4294967295"),
        },
        Ty::Obj(members) => match value.as_object() {
            None => bad("must be an object"),
            Some(map) => check_members(map, members, path),
        },
        Ty::Arr(item) => match value.as_array() {
            None => bad("must be an array"),
            Some(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, v)| check(v, item, &format!("{path}[{i}]"))),
        },
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// Check the schema's members of `map` (members it does not know are ignored,
/// as the format requires — and never named).
fn check_members(
    map: &serde_json::Map<String, Value>,
    members: &[Member],
    path: &str,
) -> Option<Refusal> {
    members.iter().find_map(|m| match map.get(m.name) {
        None if m.required => Some(Refusal::new(join(path, m.name), "is missing")),
        None => None,
        // An optional member sent as null is refused by the typed parser
        // (except `date` and `time`, whose type allows it).
        Some(v) => check(v, &m.ty, &join(path, m.name)),
    })
}

/// Read the JSON text, an object.
fn object(plain: &[u8]) -> Result<serde_json::Map<String, Value>, Refusal> {
    match serde_json::from_slice::<Value>(plain) {
        Err(_) => Err(Refusal::whole(
            "is not JSON text (one JSON object, UTF-8): the sender's software is broken",
        )),
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Refusal::whole("is JSON but not a JSON object")),
    }
}

/// `v` must be the whole number 1.
fn version(map: &serde_json::Map<String, Value>) -> Option<Refusal> {
    match map.get("v") {
        None => Some(Refusal::member("v", "is missing")),
        Some(v) => match v.as_u64() {
            Some(1) => None,
            Some(n) if n <= u64::from(u32::MAX) => Some(Refusal::member(
                "v",
                "is not 1: a payload schema this console does not understand (upgrade the console)",
            )),
            _ => Some(Refusal::member(
                "v",
                "must be a whole number from 0 to 4294967295",
            )),
        },
    }
}

/// `type` must be one of `allowed` (schema names); the members of that type.
fn variant<'a>(
    map: &serde_json::Map<String, Value>,
    allowed: &'a [(&'static str, &'static [Member])],
    rule_unknown: &'static str,
) -> Result<&'a [Member], Refusal> {
    match map.get("type") {
        None => Err(Refusal::member("type", "is missing")),
        Some(Value::String(t)) => allowed
            .iter()
            .find(|(name, _)| name == t)
            .map(|(_, members)| *members)
            .ok_or_else(|| Refusal::member("type", rule_unknown)),
        Some(_) => Err(Refusal::member("type", "must be a string")),
    }
}

const NO_DETAIL: &str = "does not match the v1 schema (for example, a member is repeated)";

/// Why a decrypted kind-1 payload that `Payload::from_json` refused was
/// refused (or is not a report or follow-up). Never quotes `plain`.
pub fn payload(plain: &[u8]) -> Refusal {
    let map = match object(plain) {
        Ok(m) => m,
        Err(r) => return r,
    };
    // The format: `v` is read first and reported before `type`.
    if let Some(r) = version(&map) {
        return r;
    }
    let members = match variant(
        &map,
        &[
            ("report", REPORT),
            ("follow-up", FOLLOW_UP),
            ("reply", REPLY),
        ],
        "is not one of `report`, `follow-up` (or `reply`, in a reply envelope)",
    ) {
        Ok(m) => m,
        Err(r) => return r,
    };
    check_members(&map, COMMON, "")
        .or_else(|| check_members(&map, members, ""))
        .unwrap_or_else(|| Refusal::whole(NO_DETAIL))
}

/// Why a decrypted console record that did not parse was refused. Never quotes `plain`.
pub fn record(plain: &[u8]) -> Refusal {
    let map = match object(plain) {
        Ok(m) => m,
        Err(r) => return r,
    };
    if let Some(r) = version(&map) {
        return r;
    }
    let members = match variant(
        &map,
        &[
            ("quietline-console/note", NOTE),
            ("quietline-console/status", STATUS),
            ("quietline-console/reply", RECORD_REPLY),
        ],
        "is not a console record type (note, status or reply)",
    ) {
        Ok(m) => m,
        Err(r) => return r,
    };
    if let Some(r) =
        check_members(&map, RECORD_COMMON, "").or_else(|| check_members(&map, members, ""))
    {
        return r;
    }
    if let Some(Value::String(s)) = map.get("status")
        && !["new", "triaged", "actioned", "closed"].contains(&s.as_str())
    {
        return Refusal::member("status", "is not one of new, triaged, actioned, closed");
    }
    Refusal::whole(NO_DETAIL)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANARY: &str = "CANARY-zq81";

    fn refuse(json: &str) -> String {
        assert!(
            quietline_crypto::payload::Payload::from_json(json.as_bytes()).is_err(),
            "the typed parser accepts {json}"
        );
        let r = payload(json.as_bytes()).to_string();
        assert!(!r.contains(CANARY) && !r.contains("98765"), "{r}");
        r
    }

    #[test]
    fn payload_refusals_name_the_member_and_never_the_value() {
        let reply = r#""reply":{"public_key":"a","thread_id":"b","slot_key":"c"}"#;
        let common = r#""v":1,"sent_at":"t","lang":"en""#;
        let body = r#""category":"drugs","details":"d","where":{"known":true},"when":{"known":false},"how_known":"saw""#;
        for (json, want) in [
            (
                format!("{{\"v\":1,\"type\":\"{CANARY}\"}}"),
                "member `type` is not one of",
            ),
            (
                format!("{{\"v\":\"{CANARY}\"}}"),
                "member `v` must be a whole number",
            ),
            (
                "{\"v\":98765432109}".to_owned(),
                "member `v` must be a whole number",
            ),
            ("{\"v\":3141}".to_owned(), "member `v` is not 1"),
            (format!("[\"{CANARY}\"]"), "is JSON but not a JSON object"),
            (format!("{{\"v\":1, {CANARY}"), "is not JSON text"),
            (
                format!(
                    "{{{common},\"type\":\"report\",\"report\":{{{body},\"when\":{{\"known\":true,\"date\":98765}}}},{reply}}}"
                ),
                "member `report.when.date` must be a string or null",
            ),
            (
                format!(
                    "{{{common},\"type\":\"report\",\"report\":{{{body},\"people\":[{{}},{{\"name\":[\"{CANARY}\"]}}]}},{reply}}}"
                ),
                "member `report.people[1].name` must be a string",
            ),
            (
                format!("{{{common},\"type\":\"follow-up\",\"{CANARY}\":1,{reply}}}"),
                "member `message` is missing",
            ),
            (
                format!(
                    "{{{common},\"type\":\"follow-up\",\"message\":\"m\",\"message\":\"{CANARY}\",{reply}}}"
                ),
                "does not match the v1 schema",
            ),
        ] {
            let r = refuse(&json);
            assert!(r.contains(want), "{json}: {r}");
        }
    }

    #[test]
    fn record_refusals_never_quote_the_record() {
        let base = r#""v":1,"report":"r","at":"t","by":"b""#;
        for (json, want) in [
            (
                format!("{{{base},\"type\":\"quietline-console/status\",\"status\":\"{CANARY}\"}}"),
                "member `status` is not one of",
            ),
            (
                format!("{{{base},\"type\":\"{CANARY}\"}}"),
                "member `type` is not a console record type",
            ),
            (
                format!(
                    "{{{base},\"type\":\"quietline-console/reply\",\"thread\":\"t\",\"slot\":\"{CANARY}\",\"from\":\"f\",\"message\":\"m\"}}"
                ),
                "member `slot` must be a whole number",
            ),
        ] {
            let r = record(json.as_bytes()).to_string();
            assert!(r.contains(want) && !r.contains(CANARY), "{json}: {r}");
        }
    }
}
