//! Retention review (issue 17): when a closed case is next reviewed, from a
//! force's rules in the `[retention]` section of `intel.toml`.
//!
//! The default is a review six years after closure: the long-standing
//! minimum review period for most police information under the Code of
//! Practice on the Management of Police Information (MoPI, 2005) and the
//! College of Policing APP "Information management: retention, review and
//! disposal", carried into the Police Information and Records Management
//! Code of Practice (2023), which leaves each force to set its own review
//! schedule. A force sets a different default and longer or shorter periods
//! per category (e.g. ten years for sexual offences, MoPI group 2) or per
//! priority. When several rules match, the LONGEST period applies: a review
//! too late keeps a record longer than needed, one too early could lead to
//! deleting something a stricter rule keeps.
//!
//! A case is reviewed only once closed; an open case is being worked and
//! has no review date. A supervisor's review either retains the case with a
//! new review date and a reason (a sealed `retention-review` record), or
//! deletes it (`casework/src/desk/retention.rs`). It owns the rules and the
//! date arithmetic; it does no I/O but reading `intel.toml`, and it does not
//! decide who may review.

use std::path::Path;

use serde::Deserialize;
use time::{Date, Month};

use crate::records::Priority;

/// The default review period after closure, in months (six years).
pub const DEFAULT_MONTHS: u32 = 6 * 12;

/// A force's retention rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionRules {
    /// Months after closure when no other rule matches.
    pub default_months: u32,
    /// Per category (the report's category code or its words, compared
    /// case-insensitively), in months.
    pub by_category: Vec<(String, u32)>,
    /// Per priority, in months.
    pub by_priority: Vec<(Priority, u32)>,
}

impl Default for RetentionRules {
    fn default() -> Self {
        RetentionRules {
            default_months: DEFAULT_MONTHS,
            by_category: Vec::new(),
            by_priority: Vec::new(),
        }
    }
}

#[derive(Deserialize, Default)]
struct File {
    #[serde(default)]
    retention: Option<RetentionFile>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RetentionFile {
    after_closure: Option<String>,
    #[serde(default)]
    category: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    priority: std::collections::BTreeMap<String, String>,
}

/// Parse a review period: a whole number of years (`6y`) or months (`18mo`),
/// at least one month and at most 100 years.
pub fn parse_period(s: &str) -> Option<u32> {
    let s = s.trim();
    let (n, mult) = if let Some(n) = s.strip_suffix("mo") {
        (n, 1)
    } else if let Some(n) = s.strip_suffix('y') {
        (n, 12)
    } else {
        return None;
    };
    let months = n.trim().parse::<u32>().ok()?.checked_mul(mult)?;
    (1..=1200).contains(&months).then_some(months)
}

/// A period in words: "6 years", "18 months", "1 year 6 months".
pub fn period_words(months: u32) -> String {
    let plural = |n: u32, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    match (months / 12, months % 12) {
        (0, m) => plural(m, "month"),
        (y, 0) => plural(y, "year"),
        (y, m) => format!("{} {}", plural(y, "year"), plural(m, "month")),
    }
}

/// Why the retention rules were refused.
#[derive(Debug, thiserror::Error)]
#[error("{path} cannot be used: {why}")]
pub struct RetentionError {
    /// The file.
    pub path: String,
    /// Why, in words.
    pub why: String,
}

/// The rule that set a case's review date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedRule {
    /// The period, in months.
    pub months: u32,
    /// Which rule, in words: "the force's default", "category Drugs",
    /// "priority high".
    pub rule: String,
}

impl AppliedRule {
    /// "6 years after closure (the force's default)".
    pub fn words(&self) -> String {
        format!(
            "{} after closure ({})",
            period_words(self.months),
            self.rule
        )
    }
}

impl RetentionRules {
    /// The force's rules from `intel.toml` in `home_dir` (the default without
    /// the file or its `[retention]` section).
    pub fn load(home_dir: &Path) -> Result<RetentionRules, RetentionError> {
        let path = home_dir.join(super::targets::INTEL_FILE);
        let err = |why: String| RetentionError {
            path: path.display().to_string(),
            why,
        };
        match std::fs::read_to_string(&path) {
            Ok(t) => RetentionRules::parse(&t).map_err(err),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(RetentionRules::default()),
            Err(e) => Err(err(e.to_string())),
        }
    }

    /// Parse the `[retention]` section of an `intel.toml` (other sections
    /// are [`super::targets`]'s).
    pub fn parse(text: &str) -> Result<RetentionRules, String> {
        let file: File = toml::from_str(text).map_err(|e| e.message().to_owned())?;
        let mut out = RetentionRules::default();
        let Some(r) = file.retention else {
            return Ok(out);
        };
        let bad = |name: &str| {
            format!(
                "retention.{name} must be a whole number of years or months, like \"6y\" or \"18mo\" (at most 100 years)"
            )
        };
        if let Some(v) = r.after_closure {
            out.default_months = parse_period(&v).ok_or_else(|| bad("after_closure"))?;
        }
        for (cat, v) in r.category {
            let months = parse_period(&v).ok_or_else(|| bad(&format!("category.{cat}")))?;
            out.by_category.push((cat.trim().to_owned(), months));
        }
        for (p, v) in r.priority {
            let priority = Priority::from_name(p.trim()).ok_or_else(|| {
                format!("retention.priority.{p} is not a priority: use high, medium or low")
            })?;
            let months = parse_period(&v).ok_or_else(|| bad(&format!("priority.{p}")))?;
            out.by_priority.push((priority, months));
        }
        Ok(out)
    }

    /// The rule for a case of `category` (its code, e.g. `drugs`) and
    /// `priority`: the longest matching period, else the default.
    pub fn rule_for(&self, category: &str, priority: Priority) -> AppliedRule {
        let words = super::report::category_words(category);
        let mut best = AppliedRule {
            months: self.default_months,
            rule: "the force's default".to_owned(),
        };
        let mut matched = false;
        let mut consider = |months: u32, rule: String| {
            if !matched || months > best.months {
                best = AppliedRule { months, rule };
                matched = true;
            }
        };
        for (c, months) in &self.by_category {
            if c.eq_ignore_ascii_case(category.trim()) || c.eq_ignore_ascii_case(&words) {
                consider(*months, format!("category {words}"));
            }
        }
        for (p, months) in &self.by_priority {
            if *p == priority {
                consider(*months, format!("priority {}", p.as_str()));
            }
        }
        best
    }
}

/// `day` plus `months` calendar months; a day past the end of the target
/// month becomes its last day (29 February + 1 year = 28 February).
pub fn add_months(day: Date, months: u32) -> Date {
    let total = day.year() as i64 * 12 + (day.month() as i64 - 1) + i64::from(months);
    let year = (total.div_euclid(12)) as i32;
    let month = Month::try_from((total.rem_euclid(12) + 1) as u8).unwrap_or(Month::December);
    let last = time::util::days_in_month(month, year);
    Date::from_calendar_date(year, month, day.day().min(last)).unwrap_or(day)
}

/// `YYYY-MM-DD` of a date.
pub fn day_string(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

/// The date of a `YYYY-MM-DD`.
pub fn parse_day(s: &str) -> Option<Date> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year: i32 = s[..4].parse().ok()?;
    let month: u8 = s[5..7].parse().ok()?;
    let day: u8 = s[8..].parse().ok()?;
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

/// The UTC date of Unix seconds.
pub fn date_of(secs: u64) -> Date {
    time::OffsetDateTime::from_unix_timestamp(secs as i64)
        .map(|t| t.date())
        .unwrap_or(Date::MIN)
}

/// Where a case stands on retention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// The day it was closed (UTC, `YYYY-MM-DD`).
    pub closed_on: String,
    /// The rule from closure.
    pub rule: AppliedRule,
    /// The review day (`YYYY-MM-DD`): the rule's, or a later one a
    /// supervisor set when retaining the case.
    pub review_on: String,
    /// Set by a supervisor's review (retained until then), not by the rule.
    pub set_by_review: bool,
    /// The review day is today or past.
    pub due: bool,
}

impl Review {
    /// Where a case closed at `closed_at` (Unix seconds; `None`: not closed,
    /// no review date) stands on `today`, with the latest retained review's
    /// new date, if any.
    pub fn compute(
        rules: &RetentionRules,
        category: &str,
        priority: Priority,
        closed_at: Option<u64>,
        retained_until: Option<&str>,
        today: Date,
    ) -> Option<Review> {
        let closed = date_of(closed_at?);
        let rule = rules.rule_for(category, priority);
        let by_rule = add_months(closed, rule.months);
        // A retained case keeps its new date unless the rule (e.g. a closure
        // after the review) gives a later one.
        let retained = retained_until.and_then(parse_day).filter(|d| *d > by_rule);
        let review = retained.unwrap_or(by_rule);
        Some(Review {
            closed_on: day_string(closed),
            rule,
            review_on: day_string(review),
            set_by_review: retained.is_some(),
            due: review <= today,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        parse_day(s).unwrap()
    }

    #[test]
    fn periods_read_and_said() {
        assert_eq!(parse_period("6y"), Some(72));
        assert_eq!(parse_period("18mo"), Some(18));
        assert_eq!(parse_period("0y"), None);
        assert_eq!(parse_period("101y"), None);
        assert_eq!(parse_period("6"), None);
        assert_eq!(parse_period("6m"), None, "m is minutes in response targets");
        assert_eq!(period_words(72), "6 years");
        assert_eq!(period_words(18), "1 year 6 months");
        assert_eq!(period_words(1), "1 month");
    }

    #[test]
    fn calendar_months_clamp_to_the_month_s_end() {
        assert_eq!(add_months(d("2024-02-29"), 12), d("2025-02-28"));
        assert_eq!(add_months(d("2026-01-31"), 1), d("2026-02-28"));
        assert_eq!(add_months(d("2026-12-07"), 72), d("2032-12-07"));
        assert_eq!(add_months(d("2026-11-15"), 2), d("2027-01-15"));
    }

    #[test]
    fn six_years_after_closure_by_default() {
        let r = RetentionRules::default();
        let closed = 1_796_601_599; // 2026-12-06T23:59:59Z
        let rev = Review::compute(
            &r,
            "drugs",
            Priority::Low,
            Some(closed),
            None,
            d("2026-12-07"),
        )
        .unwrap();
        assert_eq!(rev.closed_on, "2026-12-06");
        assert_eq!(rev.review_on, "2032-12-06");
        assert!(!rev.due && !rev.set_by_review);
        assert_eq!(
            rev.rule.words(),
            "6 years after closure (the force's default)"
        );
        let due = Review::compute(
            &r,
            "drugs",
            Priority::Low,
            Some(closed),
            None,
            d("2032-12-06"),
        )
        .unwrap();
        assert!(due.due, "due on the day");
        assert_eq!(
            Review::compute(&r, "drugs", Priority::Low, None, None, d("2040-01-01")),
            None,
            "an open case has no review date"
        );
    }

    #[test]
    fn a_force_s_rules_the_longest_matching_wins() {
        let r = RetentionRules::parse(
            "[response_targets]\nhigh = \"30m\"\n[retention]\nafter_closure = \"3y\"\n[retention.category]\n\"Sexual offences\" = \"10y\"\ndrugs = \"2y\"\n[retention.priority]\nhigh = \"7y\"\n",
        )
        .unwrap();
        assert_eq!(r.default_months, 36);
        let rule = r.rule_for("sexual", Priority::High);
        assert_eq!(
            (rule.months, rule.rule.as_str()),
            (120, "category Sexual offences")
        );
        let rule = r.rule_for("drugs", Priority::High);
        assert_eq!((rule.months, rule.rule.as_str()), (84, "priority high"));
        let rule = r.rule_for("drugs", Priority::Low);
        assert_eq!(
            (rule.months, rule.rule.as_str()),
            (24, "category Drugs"),
            "a category rule may be shorter than the default"
        );
        assert_eq!(r.rule_for("fraud", Priority::Medium).months, 36);
        assert!(RetentionRules::parse("[retention]\nafter_closure = \"soon\"").is_err());
        assert!(RetentionRules::parse("[retention.priority]\nurgent = \"1y\"").is_err());
        assert!(RetentionRules::parse("[retention]\nforever = true").is_err());
        assert_eq!(
            RetentionRules::parse("").unwrap(),
            RetentionRules::default()
        );
    }

    #[test]
    fn a_retained_case_keeps_its_new_date() {
        let r = RetentionRules::default();
        let closed = 1_796_601_599;
        let rev = Review::compute(
            &r,
            "drugs",
            Priority::Low,
            Some(closed),
            Some("2034-01-01"),
            d("2033-01-01"),
        )
        .unwrap();
        assert_eq!(rev.review_on, "2034-01-01");
        assert!(rev.set_by_review && !rev.due);
        // A retained date before the rule's (the case was closed again
        // later) gives way to the rule.
        let rev = Review::compute(
            &r,
            "drugs",
            Priority::Low,
            Some(closed),
            Some("2030-01-01"),
            d("2031-01-01"),
        )
        .unwrap();
        assert_eq!(rev.review_on, "2032-12-06");
    }
}
