//! Response targets per priority (issue 17: "a configurable response target
//! per priority (e.g. High 1 hour) with the time left shown, and overdue
//! cases flagged").
//!
//! The target runs from the triage decision: the case's first THRIVE
//! assessment, restarted by every later change of priority. The desk keeps
//! no arrival time finer than the server's UTC day (by design: the platform
//! never records when a report came), so "from receipt" is not knowable;
//! triage is the handler's first recorded look. A case not triaged has no
//! target yet. A case that is actioned or closed has met its target; a
//! follow-up that re-opens it (status back to `new`) makes it count again.
//!
//! It owns the defaults (High 1 hour, Medium 24 hours, Low 7 days), reading
//! a force's own from `intel.toml` in the console home, and the arithmetic.

use std::path::Path;

use serde::Deserialize;

use crate::records::{Priority, Status};

/// The file in the console home that holds the force's intelligence settings.
pub const INTEL_FILE: &str = "intel.toml";

/// How long each priority may wait for action after triage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseTargets {
    /// High (threat to life, serious harm, imminent risk or opportunity).
    pub high_secs: u64,
    /// Medium (time-critical).
    pub medium_secs: u64,
    /// Low (all other).
    pub low_secs: u64,
}

impl Default for ResponseTargets {
    fn default() -> Self {
        ResponseTargets {
            high_secs: 60 * 60,
            medium_secs: 24 * 60 * 60,
            low_secs: 7 * 24 * 60 * 60,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    response_targets: Option<TargetsFile>,
    /// Read by the retention rules ([`super::retention`]).
    #[serde(default)]
    #[allow(dead_code)]
    retention: Option<toml::Value>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TargetsFile {
    high: Option<String>,
    medium: Option<String>,
    low: Option<String>,
}

/// Why `intel.toml` was refused.
#[derive(Debug, thiserror::Error)]
pub enum TargetsError {
    /// Not readable or not TOML of the expected shape.
    #[error("{path} cannot be used: {why}")]
    File {
        /// The file.
        path: String,
        /// Why, in words.
        why: String,
    },
}

/// Parse `90m`, `1h`, `36h`, `7d` (a whole number and one unit: m, h or d).
pub fn parse_duration(s: &str) -> Option<u64> {
    let s = s.trim();
    let unit = s.chars().last()?;
    let n: u64 = s[..s.len() - unit.len_utf8()].trim().parse().ok()?;
    let mult = match unit {
        'm' => 60,
        'h' => 60 * 60,
        'd' => 24 * 60 * 60,
        _ => return None,
    };
    let secs = n.checked_mul(mult)?;
    (secs > 0).then_some(secs)
}

/// A duration in words: "1 hour", "90 minutes", "2 days 3 hours".
pub fn duration_words(secs: u64) -> String {
    let plural = |n: u64, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3_600, secs % 3_600 / 60);
    match (d, h, m) {
        (0, 0, m) => plural(m.max(if secs > 0 { 1 } else { 0 }), "minute"),
        (0, h, 0) => plural(h, "hour"),
        (0, h, m) => format!("{} {}", plural(h, "hour"), plural(m, "minute")),
        (d, 0, _) => plural(d, "day"),
        (d, h, _) => format!("{} {}", plural(d, "day"), plural(h, "hour")),
    }
}

impl ResponseTargets {
    /// The force's targets from `intel.toml` in `home_dir` (the defaults
    /// without the file, or for a priority it does not name).
    pub fn load(home_dir: &Path) -> Result<ResponseTargets, TargetsError> {
        let path = home_dir.join(INTEL_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(ResponseTargets::default());
            }
            Err(e) => {
                return Err(TargetsError::File {
                    path: path.display().to_string(),
                    why: e.to_string(),
                });
            }
        };
        ResponseTargets::parse(&text).map_err(|why| TargetsError::File {
            path: path.display().to_string(),
            why,
        })
    }

    /// Parse the text of an `intel.toml`.
    pub fn parse(text: &str) -> Result<ResponseTargets, String> {
        let file: File = toml::from_str(text).map_err(|e| e.message().to_owned())?;
        let mut out = ResponseTargets::default();
        if let Some(t) = file.response_targets {
            for (name, value, slot) in [
                ("high", t.high, &mut out.high_secs),
                ("medium", t.medium, &mut out.medium_secs),
                ("low", t.low, &mut out.low_secs),
            ] {
                if let Some(v) = value {
                    *slot = parse_duration(&v).ok_or_else(|| {
                        format!(
                            "response_targets.{name} must be a whole number of minutes, hours or days, like \"90m\", \"1h\" or \"7d\""
                        )
                    })?;
                }
            }
        }
        Ok(out)
    }

    /// The target for a priority, in seconds.
    pub fn for_priority(&self, p: Priority) -> u64 {
        match p {
            Priority::High => self.high_secs,
            Priority::Medium => self.medium_secs,
            Priority::Low => self.low_secs,
        }
    }
}

/// Where a case stands against its response target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// When the target started (Unix seconds, UTC): triage, or the latest
    /// change of priority after it.
    pub from: u64,
    /// When it is due (Unix seconds, UTC).
    pub due_at: u64,
    /// The target itself, in seconds.
    pub target_secs: u64,
    /// Actioned or closed: nothing is due.
    pub met: bool,
    /// Not met and past `due_at`.
    pub overdue: bool,
    /// Seconds left (negative: overdue by), while not met.
    pub left_secs: i64,
}

impl Due {
    /// Where a case with `priority` and `status`, triaged at `from` (`None`:
    /// not triaged, no target), stands at `now`.
    pub fn compute(
        targets: &ResponseTargets,
        priority: Priority,
        status: Status,
        from: Option<u64>,
        now: u64,
    ) -> Option<Due> {
        let from = from?;
        let target_secs = targets.for_priority(priority);
        let due_at = from.saturating_add(target_secs);
        let met = matches!(status, Status::Actioned | Status::Closed);
        let left_secs = due_at as i64 - now as i64;
        Some(Due {
            from,
            due_at,
            target_secs,
            met,
            overdue: !met && left_secs < 0,
            left_secs,
        })
    }

    /// "45 minutes left", "overdue by 2 hours", "target met".
    pub fn words(&self) -> String {
        if self.met {
            "target met".to_owned()
        } else if self.overdue {
            format!(
                "overdue by {}",
                duration_words(self.left_secs.unsigned_abs())
            )
        } else {
            format!("{} left", duration_words(self.left_secs as u64))
        }
    }
}

/// Unix seconds as RFC 3339 UTC to the second (`Due::due_at` for a page).
pub fn rfc3339_of(secs: u64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs as i64)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// Unix seconds of an RFC 3339 time (a record's `at`), if it is one.
pub fn unix_of(rfc3339: &str) -> Option<u64> {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()
        .and_then(|t| u64::try_from(t.unix_timestamp()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_a_force_s_own_targets() {
        let d = ResponseTargets::default();
        assert_eq!(d.for_priority(Priority::High), 3600);
        let t =
            ResponseTargets::parse("[response_targets]\nhigh = \"30m\"\nlow = \"14d\"\n").unwrap();
        assert_eq!(
            (t.high_secs, t.medium_secs, t.low_secs),
            (1800, 86_400, 14 * 86_400)
        );
        assert!(ResponseTargets::parse("[response_targets]\nhigh = \"soon\"").is_err());
        assert!(ResponseTargets::parse("[response_targets]\nhigh = \"0h\"").is_err());
        assert!(ResponseTargets::parse("[response_targets]\nurgent = \"1h\"").is_err());
        assert_eq!(ResponseTargets::parse("").unwrap(), d);
    }

    #[test]
    fn overdue_is_past_the_target_and_not_actioned() {
        let t = ResponseTargets::default();
        let from = 1_000_000;
        let due = Due::compute(
            &t,
            Priority::High,
            Status::Triaged,
            Some(from),
            from + 15 * 60,
        )
        .unwrap();
        assert!(!due.overdue);
        assert_eq!(due.words(), "45 minutes left");
        let late =
            Due::compute(&t, Priority::High, Status::New, Some(from), from + 3 * 3600).unwrap();
        assert!(late.overdue);
        assert_eq!(late.words(), "overdue by 2 hours");
        let medium = Due::compute(
            &t,
            Priority::Medium,
            Status::New,
            Some(from),
            from + 3 * 3600,
        )
        .unwrap();
        assert!(!medium.overdue, "the same wait is within medium's target");
        let met = Due::compute(
            &t,
            Priority::High,
            Status::Actioned,
            Some(from),
            from + 9 * 3600,
        )
        .unwrap();
        assert!(met.met && !met.overdue);
        assert_eq!(met.words(), "target met");
        assert_eq!(
            Due::compute(&t, Priority::High, Status::New, None, from),
            None,
            "not triaged: no target"
        );
    }

    #[test]
    fn durations_read_and_said() {
        assert_eq!(parse_duration("90m"), Some(5400));
        assert_eq!(parse_duration("7d"), Some(604_800));
        assert_eq!(parse_duration("1w"), None);
        assert_eq!(parse_duration("h"), None);
        assert_eq!(duration_words(5400), "1 hour 30 minutes");
        assert_eq!(duration_words(3 * 86_400 + 7200), "3 days 2 hours");
        assert_eq!(duration_words(20), "1 minute");
        assert_eq!(unix_of("2026-12-06T23:59:59Z"), Some(1_796_601_599));
    }
}
